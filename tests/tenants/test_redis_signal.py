"""The Redis invalidation signal, with two signals standing for two processes."""

from tenants.redis_signal import RedisSignal
from tests.redis_service import RUN_NAMESPACE, PrivateRedis, clear_run_keys, shared_redis_url


def test_bump_in_one_process_is_seen_by_another_on_its_next_read():
    url = shared_redis_url()
    clear_run_keys(url)
    writer, reader = RedisSignal(url, RUN_NAMESPACE), RedisSignal(url, RUN_NAMESPACE)
    before = reader.current()
    assert before is not None
    writer.bump()
    after = reader.current()  # no sleep: the message is already on the reader's socket
    assert after is not None and after != before
    assert reader.current() == after


def test_unreachable_redis_means_unknown_generation_and_bump_does_not_raise():
    private = PrivateRedis()
    signal = RedisSignal(private.url, RUN_NAMESPACE)
    assert signal.current() is not None
    private.stop()
    assert signal.current() is None
    signal.bump()
    assert signal.current() is None


def test_generation_after_an_outage_never_equals_one_from_before():
    private = PrivateRedis()
    signal = RedisSignal(private.url, RUN_NAMESPACE)
    before = signal.current()
    private.stop()
    assert signal.current() is None
    restarted = PrivateRedis(port=private.port)  # empty: the counter starts again from 0
    try:
        signal._retry_at = 0.0  # skip the reconnect backoff instead of sleeping through it
        after = signal.current()
        assert after is not None and after != before
    finally:
        restarted.stop()

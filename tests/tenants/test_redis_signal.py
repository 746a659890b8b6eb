"""Announcements through Redis, with two signals standing for two processes."""

import time

import pytest
import redis
import sqlalchemy as sa

from tenants import redis_signal
from tenants.redis_signal import RedisSignal
from tests.faultproxy import FaultProxy
from tests.redis_service import RUN_NAMESPACE, PrivateRedis, clear_run_keys, shared_redis_url

WAIT_SECONDS = 30.0  # bounded polling on a loaded machine; nothing here is timed


def _through(proxy: FaultProxy, url: str) -> str:
    database = sa.make_url(url.replace("redis://", "redis+x://", 1)).database or 0
    return f"redis://{proxy.host_port}/{database}"


@pytest.fixture
def proxy():
    url = sa.make_url(shared_redis_url().replace("redis://", "redis+x://", 1))
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 6379)
    yield proxy
    proxy.close()


def _eventually(condition) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_bump_in_one_process_is_heard_by_another_on_its_next_read():
    url = shared_redis_url()
    clear_run_keys(url)
    writer, reader = RedisSignal(url, RUN_NAMESPACE), RedisSignal(url, RUN_NAMESPACE)
    assert reader.heard()  # a new subscription: what came before it may have been missed
    assert reader.listening
    assert not reader.heard()
    writer.bump()
    assert writer.wait_announced(0)
    assert reader.heard()  # no sleep: the message is already on the reader's socket
    assert not reader.heard()


def test_unreachable_redis_is_not_listening_and_bump_does_not_raise():
    private = PrivateRedis()
    signal = RedisSignal(private.url, RUN_NAMESPACE)
    assert signal.heard() and signal.listening
    private.stop()
    assert not signal.heard()
    assert not signal.listening
    signal.bump()
    assert not signal.wait_announced(0)


def test_failed_announcement_is_retried_until_redis_takes_it(proxy):
    url = shared_redis_url()
    reader = RedisSignal(url, RUN_NAMESPACE)
    writer = RedisSignal(_through(proxy, url), RUN_NAMESPACE)
    assert reader.heard()
    proxy.set_mode("refuse")
    writer.bump()  # committed elsewhere; Redis does not take the announcement
    assert not writer.wait_announced(0)
    assert not reader.heard()
    proxy.set_mode("pass")
    assert writer.wait_announced(WAIT_SECONDS)
    # Redis writes the message to the subscriber in the same event-loop pass as its reply to
    # the publisher, but not necessarily first: on a loaded machine the reply can win.
    assert _eventually(reader.heard)


def test_stalled_subscription_is_found_by_its_heartbeat_and_replaced(proxy):
    url = shared_redis_url()
    reader = RedisSignal(_through(proxy, url), RUN_NAMESPACE)
    writer = RedisSignal(url, RUN_NAMESPACE)
    assert reader.heard() and reader.listening
    proxy.set_mode("stall")
    assert _eventually(lambda: not (reader.heard() or reader.listening))
    proxy.set_mode("pass")
    assert _eventually(reader.heard)  # subscribed again
    assert reader.listening
    writer.bump()
    assert _eventually(reader.heard)  # through the proxy's threads: not necessarily at once


def test_a_subscription_closed_by_redis_is_noticed_by_a_read_and_restored(monkeypatch):
    # Only the read can notice here: the heartbeat's ping would not come for an hour.
    monkeypatch.setattr(redis_signal, "HEARTBEAT_SECONDS", 3600.0)
    private = PrivateRedis()
    try:
        signal = RedisSignal(private.url, RUN_NAMESPACE)
        assert signal.heard() and signal.listening
        assert not signal.heard()  # a quiet subscription: nothing to read
        assert redis.Redis.from_url(private.url).client_kill_filter(_type="pubsub") == 1
        assert _eventually(lambda: not signal.heard() and not signal.listening)
        assert _eventually(signal.heard)  # subscribed again after the backoff
        assert signal.listening
    finally:
        private.stop()

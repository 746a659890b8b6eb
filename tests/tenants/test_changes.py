"""The change counter: bumped with every committed change, read by ``CountedSignal``."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.changes import CountedSignal, read_generation
from tenants.errors import KeyRevoked
from tests.conftest import TEST_ACTOR


class Channel:
    """Announcements as a test sets them: ``heard`` once per ``announce``."""

    def __init__(self, listening: bool = True):
        self.listening = listening
        self.announced = 0

    def announce(self) -> None:
        self.announced += 1

    def heard(self) -> bool:
        heard, self.announced = self.announced > 0, 0
        return heard

    def bump(self) -> None:
        self.announce()

    def wait_announced(self, timeout: float) -> bool:
        return True


def _counter() -> int:
    return read_generation(db.engine)


def test_every_committed_change_bumps_the_counter_once(store, tenant):
    before = _counter()
    issued = store.create_key(tenant.id, "server", TEST_ACTOR)
    store.update_key(tenant.id, issued.record.id, TEST_ACTOR, enabled=False)
    store.update_key(tenant.id, issued.record.id, TEST_ACTOR, key_scopes=["contacts:read"])
    store.set_license(tenant.id, "expired")
    rotated = store.rotate_key(tenant.id, issued.record.id, TEST_ACTOR, grace_seconds=60)
    store.revoke_key(tenant.id, rotated.record.id, TEST_ACTOR)
    assert _counter() == before + 6


def test_a_refused_change_does_not_bump_the_counter(store, tenant):
    issued = store.create_key(tenant.id, "server", TEST_ACTOR)
    store.revoke_key(tenant.id, issued.record.id, TEST_ACTOR)
    before = _counter()
    with pytest.raises(KeyRevoked):
        store.revoke_key(tenant.id, issued.record.id, TEST_ACTOR)
    assert _counter() == before


def test_unannounced_change_is_read_after_the_poll_interval_announced_one_at_once(store, tenant):
    channel = Channel()
    engine = db.engine
    slow = CountedSignal(lambda: read_generation(engine), channel, poll_seconds=3600)
    every_time = CountedSignal(lambda: read_generation(engine), Channel(), poll_seconds=0)
    before = slow.current()
    assert every_time.current() == before
    store.create_key(tenant.id, "server", TEST_ACTOR)  # its announcement goes nowhere
    assert slow.current() == before  # not read again before the interval
    assert every_time.current() == before + 1  # the interval past: read again
    channel.announce()
    assert slow.current() == before + 1  # an announcement reads it at once


@pytest.fixture
def unreachable_database(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    yield engine
    engine.dispose()


def test_unreadable_counter_is_trusted_only_while_the_channel_listens_and_is_quiet(
    app, unreachable_database
):
    channel = Channel()
    engine = db.engine
    reads = {"engine": engine}
    signal = CountedSignal(lambda: read_generation(reads["engine"]), channel, poll_seconds=0)
    known = signal.current()
    assert known is not None
    reads["engine"] = unreachable_database
    assert signal.current() == known  # listening, nothing announced: nothing can have changed
    channel.listening = False
    assert signal.current() is None  # nobody would tell: do not trust the cache
    channel.listening = True
    channel.announce()
    assert signal.current() is None  # a change was announced that cannot be read
    reads["engine"] = engine
    assert signal.current() == known

"""Pentest: a receiver answering with a NUL byte (SPEC §10).

The first KiB of each answer is kept in ``webhook_attempts.response_excerpt``. PostgreSQL's
text columns refuse the NUL character, so an answer holding one failed the INSERT of the
whole batch's record: every delivery of the batch, other tenants' included, stayed leased,
was sent again when its lease ran out, and was never recorded, forever. An excerpt (and an
error text) is now stored without NULs, on every database.
"""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from tenants.webhooks import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_ACTOR
from tests.events.conftest import deliverer, hooks  # noqa: F401 - fixtures
from tests.events.receiver import Receiver


def test_an_answer_with_a_nul_byte_is_recorded_and_the_batch_with_it(
    app,
    store,
    tenant,
    other_tenant,
    hooks,  # noqa: F811
    deliverer,  # noqa: F811
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    hooks.allow_private = True
    hostile, healthy = Receiver(answer=b"ok\x00<nul>"), Receiver()
    try:
        hooks.create(tenant.id, TEST_ACTOR, hostile.url, ["key.created"])
        hooks.create(other_tenant.id, TEST_ACTOR, healthy.url, ["key.created"])
        store.create_key(tenant.id, "a", TEST_ACTOR)
        store.create_key(other_tenant.id, "b", TEST_ACTOR)
        assert deliverer.run_once() == 2
    finally:
        hostile.stop()
        healthy.stop()
    db.session.rollback()
    statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["succeeded", "succeeded"]
    excerpts = sorted(db.session.scalars(select(WebhookAttempt.response_excerpt)))
    assert excerpts == ["ok", "ok\ufffd<nul>"]

"""Event retention (docs/security.md, pentest #15): events older than ``EVENT_RETENTION_DAYS``
(default 30, as Stripe keeps its events) are deleted with their webhook deliveries, the
deliveries' attempts and the alerts' acknowledgements. SPEC §11 wants every decoy use
recorded, so none is dropped when it happens; this bounds how long a flood of them (or of
anything else) stays. Audit entries are kept: they are the record of who changed what.

A leaked-key or decoy alert is kept until someone acknowledges it. An event with a delivery
still pending (retrying, or retried by hand) is kept until that
delivery is done, and the deletes re-check it, so a purge never removes a delivery a worker
may be sending. Deleted in batches of ``BATCH`` events, one short transaction each, found
by the ``created_at`` index. Run by ``flask --app app worker`` every hour and by
``flask --app app events purge``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, and_, delete, exists, select
from sqlalchemy.orm import Session

from tenants import clock
from tenants.alerts import TYPES as ALERT_TYPES
from tenants.alerts import AlertAcknowledgement
from tenants.events import Event
from tenants.webhooks import WebhookAttempt, WebhookDelivery

BATCH = 1000
DEFAULT_DAYS = 30


def purge_events(
    engine: Engine, retention: timedelta, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """Delete the events created more than ``retention`` ago (with their finished deliveries,
    attempts and acknowledgements), at most ``max_batches`` batches (None: all); the number
    of events deleted."""
    return purge_events_before(engine, clock.now() - retention, batch, max_batches)


def purge_events_before(
    engine: Engine, cutoff: datetime, batch: int = BATCH, max_batches: int | None = None
) -> int:
    pending = select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == Event.id, WebhookDelivery.status == "pending"
    )
    # A leaked-key or decoy alert nobody has acknowledged is the tenant's only signal (under
    # ``leak_response=notify`` the key still works): it stays until acknowledged.
    acknowledged = select(AlertAcknowledgement.id).where(AlertAcknowledgement.event_id == Event.id)
    unacknowledged_alert = and_(Event.type.in_(ALERT_TYPES), ~exists(acknowledged))
    deleted, batches = 0, 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with Session(engine) as session:
            ids = list(
                session.scalars(
                    select(Event.id)
                    .where(Event.created_at < cutoff, ~exists(pending), ~unacknowledged_alert)
                    .order_by(Event.created_at)
                    .limit(batch)
                )
            )
            if not ids:
                return deleted
            finished = select(WebhookDelivery.id).where(
                WebhookDelivery.event_id.in_(ids), WebhookDelivery.status != "pending"
            )
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(finished)))
            session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.event_id.in_(ids), WebhookDelivery.status != "pending"
                )
            )
            session.execute(
                delete(AlertAcknowledgement).where(AlertAcknowledgement.event_id.in_(ids))
            )
            # Retried by hand meanwhile: its event stays, with the pending delivery.
            remaining = select(WebhookDelivery.id).where(WebhookDelivery.event_id == Event.id)
            result = cast(
                CursorResult[Any],
                session.execute(
                    delete(Event)
                    .where(Event.id.in_(ids), ~exists(remaining))
                    .execution_options(synchronize_session=False)
                ),
            )
            session.commit()
        deleted += result.rowcount
        if len(ids) < batch:
            return deleted
    return deleted

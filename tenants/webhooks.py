"""Webhook endpoints and their deliveries (SPEC §10): the tenant-facing store.

Every emitted event fans out, in the emitting transaction, into one ``WebhookDelivery`` per
enabled endpoint subscribed to its type; the delivery's id is the ``webhook-id`` the receiver
sees on every attempt, so it can drop duplicates (delivery is at-least-once). The worker
(``tenants.delivery``) sends them.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import (
    CTE,
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Insert,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, array
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.exc import StaleDataError

from tenants import audit, clock, events
from tenants.audit import Actor
from tenants.errors import Conflict, InvalidInput
from tenants.ids import new_id
from tenants.keyformat import redact_keys
from tenants.models import Base, TenantScoped, _id, _not_found
from tenants.outbound import UnsafeDestination, parse_url
from tenants.secretbox import SecretBox, new_signing_secret
from tenants.sessions import DbSession

PREVIOUS_SECRET_HOURS = 24
MAX_ENDPOINTS_PER_TENANT = 16
EVERY_TYPE = "*"
# Types an endpoint may subscribe to: ``webhook.test`` goes only to the endpoint tested.
SUBSCRIBABLE = tuple(t for t in events.TYPES if t != "webhook.test")


class WebhookEndpoint(TenantScoped, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = _id("whe")
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_sealed: Mapped[str] = mapped_column(String(200))
    previous_secret_sealed: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None]
    # Since when every attempt has failed (None: the last one succeeded); 3 days: disabled.
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class WebhookDelivery(TenantScoped, Base):
    """One event for one endpoint: its id is the ``webhook-id`` of every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[str] = _id("msg")
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    # A worker's claim: nobody else takes the delivery before ``lease_until``; a worker that
    # dies holding it loses nothing, the lease simply runs out.
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", lazy="raise", passive_deletes=True
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[str] = _id("wha")
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(200))


@dataclass(frozen=True)
class CreatedEndpoint:
    """An endpoint just created or re-keyed: ``secret`` exists only here."""

    endpoint: WebhookEndpoint
    secret: str


ENDPOINTS = cast(Table, WebhookEndpoint.__table__)  # declarative models': Tables
DELIVERIES = cast(Table, WebhookDelivery.__table__)
_DELIVERY_COLUMNS = (
    "id",
    "tenant_id",
    "endpoint_id",
    "event_id",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


class Deliveries:
    """The ``events.FanOut`` of webhooks: one pending delivery per enabled endpoint of the
    event's tenant subscribed to its type, written by SQL alone (no endpoint row is read into
    Python). ``webhook.test`` goes to no endpoint here (``send_test`` queues it for the
    endpoint tested).

    The endpoints are read as the database has them: the session's pending changes are
    flushed first (``Session.execute``'s autoflush), so an endpoint changed in this session
    (``Deliverer._disable``: not its own ``webhook.disabled``) is read as changed, unless
    the caller holds ``no_autoflush``.
    """

    def from_cte(self, written: CTE) -> Insert:
        return _deliveries_postgresql(written)

    def after_row(self, session: DbSession, row: dict[str, Any]) -> None:
        session.execute(_deliveries_sqlite(), {**row, "types": [EVERY_TYPE, row["type"]]})


events.write_with(Deliveries())


def _deliveries_postgresql(written: CTE) -> Insert:
    """``WITH evt AS (INSERT INTO events … RETURNING id, tenant_id, type, created_at) INSERT
    INTO webhook_deliveries … SELECT … FROM evt JOIN webhook_endpoints …``.

    A delivery's id is the event's time part (so deliveries sort by their events' time, as
    ids made by ``new_id`` do) and 16 random hex digits (64 bits, upper case: all in the
    Crockford alphabet of ``new_id``), from ``gen_random_uuid()``, built into PostgreSQL
    13 and later (docs/deploy.md).
    """
    random_hex = func.upper(
        func.substr(func.md5(sa_cast(func.gen_random_uuid(), Text)), 1, 16, type_=String)
    )
    types = sa_cast(array([literal(EVERY_TYPE, Text), written.c.type]), ARRAY(Text))
    subscribed = sa_cast(ENDPOINTS.c.event_types, JSONB).has_any(types)
    deliveries = select(
        literal("msg_") + func.substr(written.c.id, 5, 10, type_=String) + random_hex,
        written.c.tenant_id,
        ENDPOINTS.c.id,
        written.c.id,
        literal("pending"),
        literal(0),
        written.c.created_at,
        written.c.created_at,
    ).join_from(written, ENDPOINTS, ENDPOINTS.c.tenant_id == written.c.tenant_id)
    deliveries = deliveries.where(
        ENDPOINTS.c.enabled.is_(True), written.c.type != "webhook.test", subscribed
    )
    return insert(DELIVERIES).from_select(_DELIVERY_COLUMNS, deliveries).add_cte(written)


@cache
def _deliveries_sqlite() -> Insert:
    """``INSERT INTO webhook_deliveries … SELECT … FROM webhook_endpoints WHERE …``, the event
    row written just before. The id as on PostgreSQL, its random part from ``randomblob``."""
    subscribed_types = func.json_each(ENDPOINTS.c.event_types).table_valued("value")
    subscribed = (
        select(literal(1))
        .select_from(subscribed_types)
        .where(subscribed_types.c.value.in_(bindparam("types", expanding=True)))
        .exists()
    )
    event_id = bindparam("id", type_=String)
    created_at = bindparam("created_at", type_=events.EVENTS.c.created_at.type)
    deliveries = select(
        literal("msg_")
        + func.substr(event_id, 5, 10, type_=String)
        + func.hex(func.randomblob(8), type_=String),
        ENDPOINTS.c.tenant_id,
        ENDPOINTS.c.id,
        event_id,
        literal("pending"),
        literal(0),
        created_at,
        created_at,
    ).where(
        ENDPOINTS.c.tenant_id == bindparam("tenant_id", type_=String),
        ENDPOINTS.c.enabled.is_(True),
        subscribed,
    )
    return insert(DELIVERIES).from_select(_DELIVERY_COLUMNS, deliveries)


def _delivery(event_id: str, tenant_id: str, endpoint: WebhookEndpoint) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id("msg"),
        tenant_id=tenant_id,
        endpoint_id=endpoint.id,
        event_id=event_id,
        status="pending",
        attempts=0,
        next_attempt_at=clock.now(),
    )


class WebhookStore:
    def __init__(self, session: Any, box: SecretBox, allow_private: bool):
        self.session = session
        self.box = box
        self.allow_private = allow_private

    def list(self, tenant_id: str) -> list[WebhookEndpoint]:
        statement = WebhookEndpoint.for_tenant(tenant_id).order_by(WebhookEndpoint.id.desc())
        return list(self.session.scalars(statement))

    def get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
        return WebhookEndpoint.get_for_tenant(self.session, tenant_id, endpoint_id)

    def create(
        self,
        tenant_id: str,
        actor: Actor,
        url: str,
        event_types: builtins.list[str],  # ``list`` is the method below, in this class
        description: str = "",
        enabled: bool = True,
    ) -> CreatedEndpoint:
        count = len(self.list(tenant_id))
        if count >= MAX_ENDPOINTS_PER_TENANT:
            raise Conflict(f"A tenant may have at most {MAX_ENDPOINTS_PER_TENANT} endpoints")
        secret = new_signing_secret()
        endpoint = WebhookEndpoint(
            id=new_id("whe"),
            tenant_id=tenant_id,
            url=self._checked_url(url),
            event_types=_checked_types(event_types),
            description=_description(description),
            enabled=bool(enabled),
        )
        endpoint.secret_sealed = self.box.seal(secret, endpoint.id)
        self.session.add(endpoint)
        audit.record(self.session, tenant_id, actor, "webhook.created", None, _shown(endpoint))
        self.session.commit()
        return CreatedEndpoint(endpoint, secret)

    def update(
        self, tenant_id: str, endpoint_id: str, actor: Actor, **fields: Any
    ) -> WebhookEndpoint:
        endpoint = self.get(tenant_id, endpoint_id)
        if "url" in fields:
            endpoint.url = self._checked_url(fields["url"])
        if "event_types" in fields:
            endpoint.event_types = _checked_types(fields["event_types"])
        if "description" in fields:
            endpoint.description = _description(fields["description"])
        if "enabled" in fields:
            endpoint.enabled = bool(fields["enabled"])
            if endpoint.enabled:
                endpoint.failing_since = None
                endpoint.disabled_reason = None
        audit.record(self.session, tenant_id, actor, "webhook.updated", None, _shown(endpoint))
        self.session.commit()
        return endpoint

    def delete(self, tenant_id: str, endpoint_id: str, actor: Actor) -> None:
        endpoint = self.get(tenant_id, endpoint_id)
        audit.record(self.session, tenant_id, actor, "webhook.deleted", None, _shown(endpoint))
        self.session.delete(endpoint)
        self.session.commit()

    def rotate_secret(self, tenant_id: str, endpoint_id: str, actor: Actor) -> CreatedEndpoint:
        """A new secret; the old one keeps signing (beside it) for 24 hours."""
        endpoint = self.get(tenant_id, endpoint_id)
        secret = new_signing_secret()
        endpoint.previous_secret_sealed = endpoint.secret_sealed
        endpoint.previous_secret_until = clock.now() + timedelta(hours=PREVIOUS_SECRET_HOURS)
        endpoint.secret_sealed = self.box.seal(secret, endpoint.id)
        audit.record(
            self.session, tenant_id, actor, "webhook.secret_rotated", None, {"id": endpoint.id}
        )
        self.session.commit()
        return CreatedEndpoint(endpoint, secret)

    def send_test(self, tenant_id: str, endpoint_id: str) -> WebhookDelivery:
        """A ``webhook.test`` event, queued for this endpoint only (even when disabled)."""
        endpoint = self.get(tenant_id, endpoint_id)
        shown = {"object": "webhook_endpoint", "id": endpoint.id, "url": url_origin(endpoint.url)}
        data = {"object": shown}
        event_id = events.emit(self.session, tenant_id, "webhook.test", data)
        delivery = _delivery(event_id, tenant_id, endpoint)
        self.session.add(delivery)
        self.session.commit()
        return delivery

    def deliveries(self, tenant_id: str, endpoint_id: str) -> Select[WebhookDelivery]:
        """The endpoint's deliveries, with their attempts (a statement to paginate)."""
        self.get(tenant_id, endpoint_id)
        return (
            WebhookDelivery.for_tenant(tenant_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(selectinload(WebhookDelivery.attempt_log))
        )

    def has_key_events(
        self, tenant_id: str, endpoint_id: str, delivery_id: str | None = None
    ) -> bool:
        """Whether the endpoint has a ``key.*`` event queued or sent (or whether delivery
        ``delivery_id`` is one): moving its URL, or retrying it, would send key metadata."""
        statement = (
            WebhookDelivery.for_tenant(tenant_id)
            .join(events.Event, events.Event.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                events.Event.type.startswith("key."),
            )
        )
        if delivery_id is not None:
            statement = statement.where(WebhookDelivery.id == delivery_id)
        return self.session.scalars(statement.limit(1)).first() is not None

    def retry(self, tenant_id: str, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
        """Send this delivery again now, with its ``webhook-id``; 409 while one is under way."""
        self.get(tenant_id, endpoint_id)
        delivery = WebhookDelivery.get_for_tenant(self.session, tenant_id, delivery_id)
        if delivery.endpoint_id != endpoint_id:
            raise InvalidInput("The delivery belongs to another endpoint")
        now = clock.now()
        if delivery.lease_until is not None and delivery.lease_until > now:
            raise Conflict("The delivery is being attempted right now")
        delivery.status = "pending"
        delivery.next_attempt_at = now
        delivery.completed_at = None
        try:
            self.session.commit()
        except StaleDataError:
            # The retention purge deleted it since it was read (its UPDATE matched no row).
            self.session.rollback()
            raise _not_found(WebhookDelivery, delivery_id) from None
        return delivery

    def _checked_url(self, url: object) -> str:
        if not isinstance(url, str) or not url or len(url) > 2000 or "\x00" in url:
            raise InvalidInput("url must be a URL of at most 2000 characters", {"field": "url"})
        if redact_keys(url) != url:
            raise InvalidInput("url must not contain an API key", {"field": "url"})
        try:
            parse_url(url, self.allow_private)
        except UnsafeDestination as exc:
            raise InvalidInput(f"url: {exc}", {"field": "url"}) from exc
        return url


def carries_key_events(event_types: object) -> bool:
    """Whether an endpoint subscribed to ``event_types`` receives ``key.*`` events (which
    carry key metadata); anything not a list is left to ``_checked_types`` to refuse."""
    if not isinstance(event_types, list):
        return False
    return any(
        t == EVERY_TYPE or (isinstance(t, str) and t.startswith("key.")) for t in event_types
    )


def _checked_types(event_types: object) -> list[str]:
    if (
        not isinstance(event_types, list)
        or not event_types
        or not all(
            isinstance(t, str) and (t == EVERY_TYPE or t in SUBSCRIBABLE) for t in event_types
        )
    ):
        raise InvalidInput(
            f'events must be ["*"] or a list of: {", ".join(SUBSCRIBABLE)}', {"field": "events"}
        )
    return sorted(set(event_types))


def _description(text: object) -> str:
    if not isinstance(text, str) or len(text) > 200 or "\x00" in text:
        raise InvalidInput("description must be at most 200 characters", {"field": "description"})
    return redact_keys(text)


def url_origin(url: str) -> str:
    """A webhook URL as shown outside ``/console/webhooks``: scheme and host only. Such URLs
    often carry a secret of their own (``https://hooks.slack.com/services/T…/B…/<secret>``),
    and the audit log and events are readable with ``org:api_keys:read``, while the endpoint
    itself needs ``org:webhooks:manage`` (SPEC §9.3)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    return origin + ("/…" if parts.path.strip("/") or parts.query else "/")


def _shown(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never its secret, nor its URL's path."""
    return {
        "id": endpoint.id,
        "url": url_origin(endpoint.url),
        "events": endpoint.event_types,
        "enabled": endpoint.enabled,
    }

"""SQLAlchemy 2 typed models of the key store. Resource records live in ``tenants.records``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    select,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column, registry
from sqlalchemy.sql import Select

from tenants import clock
from tenants.errors import NotFound
from tenants.ids import ID_SHAPE, new_id
from tenants.sessions import DbSession
from tenants.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON},
    )


def _check_id_shape(model: type, object_id: str) -> None:
    """An id that cannot be one of ours (wrong shape, a NUL byte PostgreSQL would refuse) is
    not found without a query."""
    if not ID_SHAPE.fullmatch(object_id):
        raise NotFound(f"No {model.__name__.lower()} with this id")


def _not_found(model: type, object_id: str) -> NotFound:
    return NotFound(f"No {model.__name__.lower()} with id '{object_id}'")


class TenantScoped:
    """Mixin for tenant data: every query for it starts from ``for_tenant``."""

    tenant_id: Mapped[str]
    id: Mapped[str]

    @classmethod
    def for_tenant(cls, tenant_id: str) -> Select[Self]:
        return select(cls).where(cls.tenant_id == tenant_id)

    @classmethod
    def get_for_tenant(cls, session: DbSession, tenant_id: str, object_id: str) -> Self:
        """The tenant's object with this id; another tenant's object is simply not found."""
        _check_id_shape(cls, object_id)
        found = session.scalar(cls.for_tenant(tenant_id).where(cls.id == object_id))
        if found is None:
            raise _not_found(cls, object_id)
        return found


class ModeScoped:
    """Mixin for the tenant API's data, which lives in one mode (SPEC §9.1): every query for
    it starts from ``for_tenant(tenant_id, livemode)``, so neither the tenant nor the mode can
    be left out. Objects written with a test key are another tenant's to a live key: not found.
    """

    tenant_id: Mapped[str]
    livemode: Mapped[bool]
    id: Mapped[str]

    @classmethod
    def for_tenant(cls, tenant_id: str, livemode: bool) -> Select[Self]:
        return select(cls).where(cls.tenant_id == tenant_id, cls.livemode == livemode)

    @classmethod
    def get_for_tenant(
        cls, session: DbSession, tenant_id: str, livemode: bool, object_id: str
    ) -> Self:
        """The object with this id of the tenant in this mode; any other is not found."""
        _check_id_shape(cls, object_id)
        found = session.scalar(cls.for_tenant(tenant_id, livemode).where(cls.id == object_id))
        if found is None:
            raise _not_found(cls, object_id)
        return found


ID_PREFIX = "id_prefix"  # the column's ``info`` names the prefix of its ids (pagination)


def _id(prefix: str) -> MappedColumn[str]:
    return mapped_column(
        String(40), primary_key=True, default=lambda: new_id(prefix), info={ID_PREFIX: prefix}
    )


def _tenant_fk(index: bool = True) -> MappedColumn[str]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=index)


def _livemode() -> MappedColumn[bool]:
    """``livemode`` of tenant API data: rows written before test mode existed are live."""
    return mapped_column(Boolean, default=True, server_default=true())


class Tenant(Base):
    __tablename__ = "tenants"
    # ``leak_response`` is read only where used (deferred, not fetched back by INSERT), so
    # code running against a schema from before the column still creates and reads tenants.
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[str] = _id("ten")
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # What a confirmed leak of one of its keys does (SPEC §11): "revoke" or "notify".
    # A server default only: rows written by code older than the column still insert.
    leak_response: Mapped[str] = mapped_column(String(10), server_default="revoke", deferred=True)


class Organization(Base):
    """An identity provider's organization bound to a tenant (SPEC §6.3).

    A tenant is reached by the (issuer, organization id) pair of a session token, never by
    the organization id alone: the same id at another provider is another organization.
    """

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("issuer", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    issuer: Mapped[str] = mapped_column(String(500))
    external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ApiKey(TenantScoped, Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = _id("key")
    tenant_id: Mapped[str] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    # ``live`` or ``test`` (SPEC §9.1), fixed at creation and inherited by a rotation.
    mode: Mapped[str] = mapped_column(String(4), default="live", server_default="live")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_start: Mapped[str] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    scopes: Mapped[list[str]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    # The client address of the use that last moved ``last_used_at`` (SPEC §9.2).
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    # ``metadata`` is taken by the declarative base: the column keeps the API's name.
    key_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # Addresses and CIDRs (normalised text, ``tenants.allowlist``); empty: anywhere.
    allowed_ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    rotated_from_id: Mapped[str | None] = mapped_column(String(40))
    replaced_by_id: Mapped[str | None] = mapped_column(String(40))
    # The first key of this key's rotation lineage (its own id unless it was rotated from
    # another): the lineage shares one rate-limit window, so rotating never resets it.
    lineage_id: Mapped[str] = mapped_column(String(40))
    # A tripwire (SPEC §11): never authenticates; each use raises ``key.decoy_used``.
    decoy: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a secret scanner reported the key public (SPEC §11).
    leaked_at: Mapped[datetime | None]

    @property
    def live(self) -> bool:
        return self.mode == "live"


class License(Base):
    __tablename__ = "licenses"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    expires_at: Mapped[datetime | None]
    # None means: the deployment's LICENSE_ENFORCEMENT default.
    enforcement: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class KeyStoreChanges(Base):
    """One row counting every committed key or license change (``tenants.changes``)."""

    __tablename__ = "keystore_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class KeyUsage(Base):
    """Requests made with one key on one UTC day to one endpoint, with one outcome (§9.4).

    The mode is the key's. Rows counted before endpoints and outcomes were recorded carry
    the endpoint ``*`` and the outcome ``success``.
    """

    __tablename__ = "key_usage"
    __table_args__ = (UniqueConstraint("key_id", "day", "endpoint", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    endpoint: Mapped[str] = mapped_column(String(80), default="*", server_default="*")
    outcome: Mapped[str] = mapped_column(String(20), default="success", server_default="success")
    requests: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = _id("aud")
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    # The identity provider of a console actor (``None``: the CLI or the system).
    actor_issuer: Mapped[str | None] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(128))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any] | None]
    # Test or live like the key concerned (``tenants.audit``); entries about no key are live.
    livemode: Mapped[bool] = _livemode()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    @classmethod
    def in_modes(cls, tenant_id: str, modes: Iterable[str]) -> Select[Self]:
        """The tenant's entries of ``modes`` (``live``, ``test``)."""
        livemodes = [mode == "live" for mode in modes]
        return cls.for_tenant(tenant_id).where(cls.livemode.in_(livemodes))


class IdempotencyRecord(Base):
    """The first response to a POST sent with an ``Idempotency-Key``, kept for 24 hours.

    The header itself is never stored, only its digest (``crypto.idempotency_key_digest``):
    a client may put anything there, an API key included (SPEC §5).
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("tenant_id", "livemode", "idempotency_key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Per mode (SPEC §9.1): a test request never replays, nor conflicts with, a live one.
    livemode: Mapped[bool] = _livemode()
    idempotency_key_hash: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)

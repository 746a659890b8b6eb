"""Operator commands: ``flask tenants ...``, ``flask keys ...``, ``flask licenses ...``.

They sit with the app wiring (they read the app's configuration and services), above the store.
"""

from __future__ import annotations

import getpass
import signal
import threading
from datetime import datetime, timedelta
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from core.extensions import db, keystore, sign_in
from tenants import clock, delivery, leaks, retention
from tenants.audit import Actor
from tenants.changes import POLL_SECONDS
from tenants.errors import StoreError
from tenants.keys import KeyStore
from tenants.models import ApiKey
from tenants.outbound import Sender
from tenants.secretbox import SecretBox

tenants_cli = AppGroup("tenants", help="Manage tenants.")
keys_cli = AppGroup("keys", help="Manage tenant API keys.")
licenses_cli = AppGroup("licenses", help="Manage tenant licenses.")
events_cli = AppGroup("events", help="Manage the event log.")


def _actor() -> Actor:
    return Actor(sub=f"cli:{getpass.getuser()}")


def _fail(exc: StoreError) -> NoReturn:
    raise click.ClickException(exc.message) from exc


ANNOUNCE_WAIT_SECONDS = 5.0


def _report_announcement(store: KeyStore) -> None:
    """After a committed change: say on stderr when Redis did not take its announcement.
    The change stands either way (exit 0); running instances read it from the database."""
    if store.signal.wait_announced(0):
        return
    click.echo(
        "The change is committed, but announcing it through Redis failed; retrying for "
        f"up to {ANNOUNCE_WAIT_SECONDS:g}s (instances read it from the database within "
        f"{POLL_SECONDS:g}s anyway).",
        err=True,
    )
    if store.signal.wait_announced(ANNOUNCE_WAIT_SECONDS):
        click.echo("Announced through Redis after retrying.", err=True)
    else:
        click.echo(
            "Still not announced through Redis; instances read the change from the database.",
            err=True,
        )


@tenants_cli.command("create")
@click.argument("name")
@click.option("--external-id", help="The identity provider's organization id (e.g. org_...).")
@click.option("--issuer", help="The provider of that organization; default CONSOLE_ISSUER.")
def create_tenant(name: str, external_id: str | None, issuer: str | None) -> None:
    """Create a tenant and print its id; with --external-id, bound to that organization."""
    if external_id is None and issuer is not None:
        raise click.UsageError("--issuer goes with --external-id")
    if external_id is not None:
        issuer = issuer or current_app.config.get("CONSOLE_ISSUER")
        if not issuer:
            raise click.UsageError("Give --issuer: CONSOLE_ISSUER is not set")
        _warn_unless_configured(issuer)
    store = keystore.get()
    if external_id is not None and issuer is not None:
        existing = store.tenant_for_organization(issuer, external_id)
        if existing is not None:
            raise click.ClickException(
                f"Organization '{external_id}' of {issuer} is already bound to {existing.id}"
            )
    try:
        click.echo(store.create_tenant(name, external_id, issuer).id)
    except StoreError as exc:
        _fail(exc)


@tenants_cli.command("link")
@click.argument("tenant_id")
@click.option("--issuer", required=True, help="The identity provider (its `iss`).")
@click.option("--external-id", required=True, help="The organization id at that provider.")
def link_tenant(tenant_id: str, issuer: str, external_id: str) -> None:
    """Let an organization of a further identity provider reach an existing tenant."""
    _warn_unless_configured(issuer)
    try:
        keystore.get().link_organization(tenant_id, issuer, external_id, _actor())
    except StoreError as exc:
        _fail(exc)
    click.echo(f"{tenant_id}\t{issuer}\t{external_id}")


@tenants_cli.command("leak-response")
@click.argument("tenant_id")
@click.argument("response", type=click.Choice(leaks.LEAK_RESPONSES))
def leak_response(tenant_id: str, response: str) -> None:
    """What a key of TENANT_ID reported as public gets: revoke (the default) or notify."""
    try:
        tenant = leaks.set_leak_response(keystore.get(), tenant_id, response, _actor())
    except StoreError as exc:
        _fail(exc)
    click.echo(f"{tenant.id}\t{tenant.leak_response}")


def _warn_unless_configured(issuer: str) -> None:
    """A binding may be made before its provider is configured, but say so: a typo in an
    issuer would otherwise leave the organization silently unable to sign in."""
    if issuer not in sign_in.get().issuers:
        click.echo(f"warning: {issuer} is not a configured identity provider", err=True)


@tenants_cli.command("list")
def list_tenants() -> None:
    """Tenant id, name, and each bound organization as issuer:organization id."""
    store = keystore.get()
    for tenant in store.list_tenants():
        bound = ", ".join(
            f"{org.issuer} {org.external_id}" for org in store.organizations(tenant.id)
        )
        click.echo(f"{tenant.id}\t{tenant.name}\t{bound or '-'}")


@keys_cli.command("create")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--name", required=True)
@click.option("--scopes", default="", help="Comma-separated; default '*'.")
@click.option("--expires-in", type=click.IntRange(min=1), help="Seconds until the key expires.")
@click.option("--rate-limit", type=click.IntRange(min=0), help="Requests per minute for this key.")
@click.option("--mode", type=click.Choice(["live", "test"]), default="live", show_default=True)
@click.option("--description", default="", help="A note on what the key is for.")
@click.option(
    "--allowed-ip",
    "allowed_ips",
    multiple=True,
    help="An address or CIDR the key may be used from (repeat); default: anywhere.",
)
def create_key(
    tenant_id: str,
    name: str,
    scopes: str,
    expires_in: int | None,
    rate_limit: int | None,
    mode: str,
    description: str,
    allowed_ips: tuple[str, ...],
) -> None:
    """Create a key. The full key is printed once, alone on the last line."""
    expires_at = clock.now() + timedelta(seconds=expires_in) if expires_in else None
    requested = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    store = keystore.get()
    try:
        issued = store.create_key(
            tenant_id,
            name,
            _actor(),
            requested,
            expires_at,
            rate_limit_per_minute=rate_limit,
            mode=mode,
            description=description,
            allowed_ips=list(allowed_ips),
        )
    except StoreError as exc:
        _fail(exc)
    _report_announcement(store)
    key = issued.record
    click.echo(
        f"id: {key.id}\nname: {key.name}\nmode: {key.mode}\nscopes: {','.join(key.scopes)}",
        err=False,
    )
    click.echo("Store this key now; it cannot be shown again:", err=True)
    click.echo(issued.full_key)


@keys_cli.command("list")
@click.option("--tenant", "tenant_id", required=True)
def list_keys(tenant_id: str) -> None:
    store = keystore.get()
    try:
        store.tenant(tenant_id)
    except StoreError as exc:
        _fail(exc)
    for key in store.list_keys(tenant_id):
        status = "revoked" if key.revoked_at else ("enabled" if key.enabled else "disabled")
        click.echo(
            f"{key.id}\t{key.name}\t{key.display_start}...{key.last4}\t"
            f"{','.join(key.scopes)}\t{status}\t{key.mode}"
        )


@keys_cli.command("update")
@click.argument("key_id")
@click.option("--description", help="A note on what the key is for.")
@click.option(
    "--allowed-ip",
    "allowed_ips",
    multiple=True,
    help="An address or CIDR the key may be used from (repeat); replaces the list.",
)
@click.option("--any-ip", is_flag=True, help="Clear the allow-list: usable from anywhere.")
@click.option("--rate-limit", type=click.IntRange(min=0), help="Requests per minute; 0: none.")
@click.option("--default-rate-limit", is_flag=True, help="Use RATE_LIMIT_PER_MINUTE again.")
def update_key(
    key_id: str,
    description: str | None,
    allowed_ips: tuple[str, ...],
    any_ip: bool,
    rate_limit: int | None,
    default_rate_limit: bool,
) -> None:
    """Change a key's description, IP allow-list or rate limit (audited as the console is)."""
    if allowed_ips and any_ip:
        raise click.UsageError("--allowed-ip and --any-ip exclude each other")
    if rate_limit is not None and default_rate_limit:
        raise click.UsageError("--rate-limit and --default-rate-limit exclude each other")
    changes: dict[str, object] = {}
    if description is not None:
        changes["description"] = description
    if allowed_ips or any_ip:
        changes["allowed_ips"] = list(allowed_ips)
    if rate_limit is not None or default_rate_limit:
        changes["rate_limit_per_minute"] = rate_limit
    if not changes:
        raise click.UsageError("Nothing to change: give at least one option")
    store = keystore.get()
    key = store.session.get(ApiKey, key_id)
    if key is None:
        raise click.ClickException(f"No key with id '{key_id}'")
    try:
        key = store.update_key(key.tenant_id, key_id, _actor(), **changes)
    except StoreError as exc:
        _fail(exc)
    _report_announcement(store)
    limit = "default" if key.rate_limit_per_minute is None else key.rate_limit_per_minute
    click.echo(f"{key.id}\tallowed_ips: {','.join(key.allowed_ips) or 'any'}\trate_limit: {limit}")


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    store = keystore.get()
    key = store.session.get(ApiKey, key_id)
    if key is None:
        raise click.ClickException(f"No key with id '{key_id}'")
    try:
        store.revoke_key(key.tenant_id, key_id, _actor())
    except StoreError as exc:
        _fail(exc)
    click.echo(f"revoked {key_id}")
    _report_announcement(store)


@licenses_cli.command("set")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--status", type=click.Choice(["active", "expired", "revoked"]), required=True)
@click.option("--expires-at", help="ISO 8601, e.g. 2027-01-01T00:00:00Z")
@click.option("--enforcement", type=click.Choice(["enforce", "warn"]))
def set_license(
    tenant_id: str, status: str, expires_at: str | None, enforcement: str | None
) -> None:
    store = keystore.get()
    try:
        when = _parse_time(expires_at) if expires_at else None
        row = store.set_license(tenant_id, status, expires_at=when, enforcement=enforcement)
    except StoreError as exc:
        _fail(exc)
    _report_announcement(store)
    click.echo(f"{row.tenant_id}\t{row.status}\t{row.expires_at or '-'}\t{row.enforcement or '-'}")


def _parse_time(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {raw}") from exc
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2027-01-01T00:00:00Z")
    return parsed


@click.command("worker")
@click.option("--status", is_flag=True, help="Print the delivery backlog and lag, then exit.")
@click.option("--once", is_flag=True, help="Deliver one batch, then exit.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=32, show_default=True)
@click.option(
    "--per-endpoint",
    type=click.IntRange(1, 256),
    help="Most sends one endpoint may have under way; default the per-tenant share.",
)
@click.option(
    "--per-tenant",
    type=click.IntRange(1, 256),
    help="Most sends one tenant may have under way; default half of --concurrency.",
)
@click.option(
    "--reserve",
    type=click.IntRange(0, 256),
    help="Slots kept free for tenants sending nothing: a tenant already sending takes "
    "another only while this many stay free. Default an eighth of --concurrency (at least "
    "1); at most --concurrency minus the per-tenant share, so a lone tenant gets its share.",
)
def worker(
    status: bool,
    once: bool,
    concurrency: int,
    per_endpoint: int | None,
    per_tenant: int | None,
    reserve: int | None,
) -> None:
    """Deliver webhooks (and raise key.expiring events) until SIGTERM or Ctrl-C."""
    engine = db.engine
    if status:
        backlog = delivery.backlog(lambda: Session(engine))
        click.echo(
            f"due: {backlog.due}\nin flight: {backlog.leased}\n"
            f"lag_seconds: {backlog.lag_seconds:.1f}\nfailed: {backlog.failed}"
        )
        return
    config = current_app.config
    deliverer = delivery.Deliverer(
        engine,
        SecretBox(config["SECRET_KEY"]),
        Sender(
            config["WEBHOOK_ALLOW_PRIVATE"],
            pool_size=concurrency,
            ca_certs=config["WEBHOOK_CA_BUNDLE"],
        ),
        concurrency=concurrency,
        lease_seconds=config["WEBHOOK_LEASE_SECONDS"],
        per_endpoint=per_endpoint,
        per_tenant=per_tenant,
        reserve=reserve,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"webhook worker {deliverer.owner} started", err=True)
    try:
        delivery.run(deliverer, stop, once, _retention())
    finally:
        deliverer.close()


def _retention() -> timedelta | None:
    days = current_app.config["EVENT_RETENTION_DAYS"]
    return timedelta(days=days) if days > 0 else None


@events_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Keep this many days of events; default EVENT_RETENTION_DAYS.",
)
def purge_events(days: int | None) -> None:
    """Delete events older than the retention, with their finished webhook deliveries."""
    kept = timedelta(days=days) if days is not None else _retention()
    if kept is None:
        raise click.UsageError("EVENT_RETENTION_DAYS is 0 (keep events): give --days")
    purged = retention.purge_events(db.engine, kept)
    click.echo(f"purged {purged} events older than {kept.days} days")


COMMANDS = (tenants_cli, keys_cli, licenses_cli, events_cli, worker)

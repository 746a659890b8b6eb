"""Leaked and decoy keys (SPEC §11).

A leak report (GitHub secret scanning, ``security/``) names a token. Only its hash is ever
looked up; the token itself is neither stored nor logged, and an audit entry or event keeps
the key's id and the report's url instead. A confirmed key is marked ``leaked_at``, audited
as ``secret-scanning:github``, announced as ``key.leaked`` and, under the tenant's
``leak_response`` ``revoke`` (the default), revoked in the same transaction, so every
process refuses it on its next request.

A decoy key never authenticates: whoever presents one gets exactly an unknown key's answer,
and its use is recorded as a ``key.decoy_used`` event (time, client address, user agent,
method and path). The request thread does no more for a decoy than for an unknown key: one
lookup by hash (decoys are never cached), then the refusal; the event is written off the
request thread by the process's usage flush (``UsageBuffer.defer``), within
``USAGE_FLUSH_SECONDS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants import audit, clock, events
from tenants.audit import Actor
from tenants.crypto import key_hash
from tenants.errors import InvalidInput
from tenants.keyformat import redact_keys
from tenants.keys import KeyStore
from tenants.models import ApiKey, Tenant

log = logging.getLogger("loopwave.leaks")

LEAK_RESPONSES = ("revoke", "notify")


@dataclass(frozen=True)
class LeakReport:
    token: str
    token_type: str
    url: str | None
    source: str | None


def handle_report(store: KeyStore, report: LeakReport, scanner: str) -> bool:
    """True (a true positive) when the reported token is one of our keys, handled per its
    tenant's ``leak_response``; False for anything else. The token is only hashed."""
    if not store.verifier.is_well_formed(report.token):
        return False
    key = store.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(report.token)))
    if key is None:
        return False
    tenant = store.session.get(Tenant, key.tenant_id)
    now = clock.now()
    revoke = tenant is not None and tenant.leak_response == "revoke" and not key.decoy
    revoked_now = revoke and key.revoked_at is None
    first_report = key.leaked_at is None
    if not (first_report or revoked_now):
        # Already marked (and revoked if its tenant wants that): a replayed report (the
        # protocol has no nonce) or a token named twice changes nothing and leaves no trace,
        # rather than an event, an audit entry and a flush of every key cache each time.
        return True
    if revoked_now:
        key.revoked_at = now
    if first_report:
        key.leaked_at = now
    details = {
        "url": _text(report.url, 500),
        "source": _text(report.source, 50),
        "token_type": _text(report.token_type, 100),
        "response": "revoked" if revoke else "notified",
    }
    actor = Actor(sub=f"secret-scanning:{scanner}")
    entry = audit.entry(key.tenant_id, actor, "key.leaked", key.id, details, livemode=key.live)
    about = {"object": events.key_object(key)}
    outbox = [events.new_event(key.tenant_id, "key.leaked", {**about, **details})]
    if revoked_now:
        outbox.append(events.new_event(key.tenant_id, "key.revoked", about))
    store.commit_change(outbox, [entry])
    log.warning("key %s reported public by %s: %s", key.id, actor.sub, details["response"])
    return True


def decoy_use(
    key_id: str,
    tenant_id: str,
    client_ip: str | None,
    user_agent: str | None,
    method: str,
    path: str,
) -> Callable[[Session], None]:
    """The write that records a decoy's use now (``record_decoy_use``), to be run later, off
    the request thread (``UsageBuffer.defer``)."""
    return partial(
        record_decoy_use,
        key_id=key_id,
        tenant_id=tenant_id,
        used_at=clock.now(),
        client_ip=client_ip,
        user_agent=user_agent,
        method=method,
        path=path,
    )


def record_decoy_use(
    session: Session,
    *,
    key_id: str,
    tenant_id: str,
    used_at: datetime,
    client_ip: str | None,
    user_agent: str | None,
    method: str,
    path: str,
) -> None:
    """``key.decoy_used`` with who used the decoy, when and where, in ``session``'s
    transaction; nothing else changes."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return
    data: dict[str, Any] = {
        "object": events.key_object(key),
        "used_at": clock.iso(used_at),
        "client_ip": client_ip,
        "user_agent": _text(user_agent, 300),
        "method": _text(method, 10),
        "path": _text(path, 500),
    }
    events.emit(session, tenant_id, "key.decoy_used", data)
    log.warning("decoy key %s used from %s", key_id, client_ip)


def set_leak_response(store: KeyStore, tenant_id: str, response: str, actor: Actor) -> Tenant:
    if response not in LEAK_RESPONSES:
        raise InvalidInput(
            f"leak_response must be one of {', '.join(LEAK_RESPONSES)}", {"field": "leak_response"}
        )
    tenant = store.tenant(tenant_id)
    if tenant.leak_response != response:
        changes = {"leak_response": [tenant.leak_response, response]}
        audit.record(store.session, tenant_id, actor, "tenant.leak_response", None, changes)
        tenant.leak_response = response
        store.session.commit()
    return tenant


def _text(value: object, limit: int) -> str | None:
    """Reporter- or client-supplied text as kept: printable, key-shaped parts redacted."""
    if not isinstance(value, str):
        return None
    printable = "".join(char for char in value if char.isprintable())
    return redact_keys(printable)[:limit]

"""Reading usage (SPEC §9.4): rows by key, day, endpoint and outcome, summed by ``group_by``,
and the scope report of one key: the scopes its traffic needed, against those it holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from tenants import clock, scopes
from tenants.errors import InvalidInput
from tenants.ids import ID_SHAPE
from tenants.models import ApiKey, KeyUsage
from tenants.numbers import bounded_int
from tenants.sessions import DbSession
from tenants.usage import UsageBuffer

MAX_REPORT_DAYS = 90
GROUPS = ("key", "day", "endpoint", "outcome")
MODES = ("live", "test")
# Outcomes of requests the key was not allowed to make: they show no scope the key needed.
# ``rate_limited`` too: the rate limit is checked before the scope, so a 429 says nothing of
# whether the key may call the endpoint (counting it let a key's holder pick the scopes the
# report suggests).
REFUSED = frozenset({"unauthorized", "forbidden", "rate_limited"})


def report_days(raw_days: str | None) -> int:
    """``?days=``: 1 to 90, 30 when absent; present but empty is an error."""
    days = 30 if raw_days is None else bounded_int(raw_days, 1, MAX_REPORT_DAYS)
    if days is None:
        raise InvalidInput(
            f"days must be an integer from 1 to {MAX_REPORT_DAYS}", {"field": "days"}
        )
    return days


def parse_group_by(raw: str | None) -> tuple[str, ...]:
    """``?group_by=key,day``: the dimensions kept, in the order of ``GROUPS``; all when absent."""
    if raw is None:
        return GROUPS
    asked = [part.strip() for part in raw.split(",")]
    unknown = [part for part in asked if part not in GROUPS]
    if not raw.strip() or unknown:
        raise InvalidInput(
            f"group_by is a comma-separated list of {', '.join(GROUPS)}",
            {"field": "group_by", "allowed": list(GROUPS)},
        )
    return tuple(group for group in GROUPS if group in asked)


def parse_modes(raw: str | None) -> tuple[str, ...]:
    """``?mode=live|test``: both when absent."""
    if raw is None:
        return MODES
    if raw not in MODES:
        raise InvalidInput("mode must be live or test", {"field": "mode", "allowed": list(MODES)})
    return (raw,)


def parse_key_filter(raw: str | None) -> str | None:
    """``?key_id=key_...``: one key's rows only. Malformed is a 400, like a bad cursor; a
    well-formed id of no key of the tenant (another tenant's included) matches no row, so
    the answer is empty rather than a 404 that would tell foreign ids from unknown ones."""
    if raw is None:
        return None
    if not (raw.startswith("key_") and ID_SHAPE.fullmatch(raw)):
        raise InvalidInput("key_id must be a key id (key_...)", {"field": "key_id"})
    return raw


def usage_report(
    session: DbSession,
    buffer: UsageBuffer,
    tenant_id: str,
    query: Mapping[str, str],
    modes: Iterable[str] = MODES,
    key_id: str | None = None,
) -> list[dict[str, Any]]:
    """The tenant's usage of the last ``?days=`` in ``modes``, summed by ``?group_by=``, this
    process's counts included (they are written first); ``key_id``: that key's rows only.
    Every row keeps its ``mode``: live and test requests are never added together."""
    days = report_days(query.get("days"))
    groups = parse_group_by(query.get("group_by"))
    buffer.flush()
    since = clock.now().date() - timedelta(days=days - 1)
    return usage_rows(session, tenant_id, since, groups, tuple(modes), key_id)


_COLUMNS = {
    "key": (KeyUsage.key_id, ApiKey.name, ApiKey.last4),
    "day": (KeyUsage.day,),
    "endpoint": (KeyUsage.endpoint,),
    "outcome": (KeyUsage.outcome,),
}
_ORDER = {
    "key": (KeyUsage.key_id,),
    "day": (KeyUsage.day.desc(),),
    "endpoint": (KeyUsage.endpoint,),
    "outcome": (KeyUsage.outcome,),
}


def usage_rows(
    session: DbSession,
    tenant_id: str,
    since: date,
    groups: tuple[str, ...] = GROUPS,
    modes: tuple[str, ...] = MODES,
    key_id: str | None = None,
) -> list[dict[str, Any]]:
    """Requests from ``since`` on, summed over every dimension not in ``groups``; newest day
    first, then by key, endpoint and outcome."""
    kept = [column for group in groups for column in _COLUMNS[group]]
    ordered = ("day", "key", "endpoint", "outcome")
    statement = (
        select(ApiKey.mode, *kept, func.sum(KeyUsage.requests))
        .join(ApiKey, ApiKey.id == KeyUsage.key_id)
        .where(KeyUsage.tenant_id == tenant_id, KeyUsage.day >= since, ApiKey.mode.in_(modes))
        .group_by(ApiKey.mode, *kept)
        .order_by(*[c for group in ordered if group in groups for c in _ORDER[group]], ApiKey.mode)
    )
    if key_id is not None:
        statement = statement.where(KeyUsage.key_id == key_id)
    return [_row(groups, tuple(found)) for found in session.execute(statement)]


def _row(groups: tuple[str, ...], found: tuple[Any, ...]) -> dict[str, Any]:
    mode, *values, requests = found
    row: dict[str, Any] = {}
    position = 0
    for group in groups:
        if group == "key":
            row["key_id"], row["key_name"], row["key_last4"] = values[position : position + 3]
            position += 3
            continue
        value = values[position]
        row[group] = value.isoformat() if group == "day" else value
        position += 1
    row["mode"] = mode
    row["requests"] = int(requests)
    return row


def scope_report(
    session: DbSession,
    buffer: UsageBuffer,
    key: ApiKey,
    raw_days: str | None,
    scope_of: Mapping[str, str | None],
) -> dict[str, Any]:
    """The scopes ``key``'s traffic of the last ``?days=`` needed, against those it holds.

    ``scope_of`` maps each tenant API endpoint (``POST /api/v1/messages``) to the scope it
    requires (``None``: any valid key). A request the key was refused (unauthorized,
    forbidden) needed nothing of its grant; every other one needed its endpoint's scope.
    ``suggested_scopes`` is the narrowest grant that would have served all that traffic.
    """
    days = report_days(raw_days)
    buffer.flush()
    since = clock.now().date() - timedelta(days=days - 1)
    rows = usage_rows(session, key.tenant_id, since, ("endpoint", "outcome"), MODES, key_id=key.id)
    needed: dict[str, int] = {}
    endpoints: dict[str, int] = {}
    for row in rows:
        if row["outcome"] in REFUSED:
            continue
        endpoints[row["endpoint"]] = endpoints.get(row["endpoint"], 0) + row["requests"]
        scope = scope_of.get(row["endpoint"])
        if scope is not None:
            needed[scope] = needed.get(scope, 0) + row["requests"]
    granted = list(key.scopes)
    held = scopes.SCOPES if scopes.ALL in granted else granted
    # Never more than the key holds: the suggestion narrows a grant, it never widens one.
    used = [scope for scope in scopes.SCOPES if scope in needed and scope in held]
    return {
        "key_id": key.id,
        "days": days,
        "granted": granted,
        "used": used,
        "unused": [scope for scope in held if scope not in needed],
        "suggested_scopes": used,
        "requests_by_scope": {scope: needed[scope] for scope in used},
        "requests_by_endpoint": dict(sorted(endpoints.items())),
    }

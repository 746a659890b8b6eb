"""The limit on console writes (docs/security.md, pentest #14): every ``POST``, ``PATCH``,
``PUT`` and ``DELETE`` under ``/console`` counts against the signed-in user
(``CONSOLE_WRITES_PER_MINUTE``) and against the tenant (``CONSOLE_TENANT_WRITES_PER_MINUTE``),
in fixed one-minute windows. Beyond either: 429 ``RATE_LIMITED`` with ``Retry-After``, before
the view runs, so a refused write changes nothing (no event, no audit entry, no delivery).
A write is counted once it has succeeded (2xx): writes refused for any reason change nothing
and cost the windows nothing (a member without the permission cannot use up the tenant's).
Two concurrent writes may both pass the check of a window with one place left: a window
can be exceeded by the writes in flight at once, never more.

Why: each write adds audit entries and events (and a delivery per endpoint), and a test event
is free to ask for; a loop of them grew those tables without bound. A person at the
dashboard makes a few writes a minute; the defaults are far above that.

The user is counted by issuer and subject *within the tenant*: every token of one person
(a new session, a refreshed token) lands in the same window, and the tenant's window bounds
what all its members together can write. Counted through ``limits``: in Redis with
``REDIS_URL`` (shared by every process and instance, under the deployment's namespace),
in this process's memory without; Redis unreachable falls back to memory for
``RETRY_SECONDS`` (one warning per outage), as the other limits do: never a 500 for it.
"""

from __future__ import annotations

import logging

from flask import Flask
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from core.errors import ApiError
from core.services import AppService
from core.windows import FallbackWindows

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Writes that stop harm, outside the tenant's window: the other members' writes must never
# keep an admin from revoking a key during an incident (each person's own window still holds).
EMERGENCY_ENDPOINTS = frozenset({"console.revoke_key"})
log = logging.getLogger("loopwave.consolelimit")


class ConsoleWriteLimit:
    def __init__(
        self, per_user: int, per_tenant: int, redis_url: str | None, namespace: str
    ) -> None:
        self.per_user = per_user  # 0: no limit
        self.per_tenant = per_tenant  # 0: no limit
        self._user = RateLimitItemPerMinute(max(per_user, 1), namespace="consolewrite")
        self._tenant = RateLimitItemPerMinute(max(per_tenant, 1), namespace="consolewrite")
        self._windows = FallbackWindows(
            redis_url,
            namespace,
            FixedWindowRateLimiter(MemoryStorage()),
            log,
            "console write limits",
        )

    def check(self, tenant_id: str, issuer: str, user_id: str, *, tenant: bool = True) -> None:
        """Before a write: a 429 ``ApiError`` when the user's or the tenant's window is
        spent (nothing counted). ``tenant=False``: the user's window only (a key's revoke,
        ``EMERGENCY_ENDPOINTS``)."""
        if self.per_user > 0:
            self._check(self._user, "user", tenant_id, issuer, user_id)
        if self.per_tenant > 0 and tenant:
            self._check(self._tenant, "tenant", tenant_id)

    def hit(self, tenant_id: str, issuer: str, user_id: str, *, tenant: bool = True) -> None:
        """After a write that succeeded: count it in both windows. Refused writes (403, 404,
        400, 409, 429) change nothing and are not counted, so a member without the
        permission cannot spend the tenant's allowance on writes that fail."""
        if self.per_user > 0:
            self._windows.hit(self._user, "user", tenant_id, issuer, user_id)
        if self.per_tenant > 0 and tenant:
            self._windows.hit(self._tenant, "tenant", tenant_id)

    def _check(self, item: RateLimitItem, *identifiers: str) -> None:
        retry_after = self._windows.retry_after(item, *identifiers)
        if retry_after is None:
            return
        whose = "you" if identifiers[0] == "user" else "this organization"
        raise ApiError(
            "RATE_LIMITED",
            f"Too many console changes: {whose} may make {item.amount} a minute; retry after "
            "the time in Retry-After",
            {"limit_per_minute": item.amount, "scope": identifiers[0]},
            headers={"Retry-After": str(min(retry_after, 60))},
        )


class ConsoleWriteLimitService(AppService[ConsoleWriteLimit]):
    name = "loopwave.console_writes"

    def init_app(self, app: Flask) -> None:
        limit = ConsoleWriteLimit(
            app.config["CONSOLE_WRITES_PER_MINUTE"],
            app.config["CONSOLE_TENANT_WRITES_PER_MINUTE"],
            app.config["REDIS_URL"],
            app.config["REDIS_NAMESPACE"],
        )
        self._install(app, limit)

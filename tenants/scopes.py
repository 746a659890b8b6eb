"""The scopes a key may hold (SPEC §5)."""

from collections.abc import Iterable

from tenants.errors import InvalidInput
from tenants.keyformat import redact_keys

ALL = "*"
SCOPES = (
    "messages:write",
    "chats:read",
    "contacts:read",
    "contacts:write",
    "tickets:read",
    "tickets:write",
    "broadcasts:write",
)
VALID = frozenset((*SCOPES, ALL))


def normalise(requested: Iterable[str] | None) -> list[str]:
    """Validated, de-duplicated scopes in a stable order; none requested means ``*``."""
    scopes = list(dict.fromkeys(requested or []))
    if not scopes:
        return [ALL]
    unknown = [scope for scope in scopes if scope not in VALID]
    if unknown:
        # Naming what was sent helps with a typo; a key pasted in its place is not echoed.
        raise InvalidInput(
            f"Unknown scope: {redact_keys(', '.join(map(str, unknown)))}",
            {"field": "scopes", "allowed": sorted(VALID)},
        )
    if ALL in scopes:
        return [ALL]
    return sorted(scopes, key=SCOPES.index)


def allows(held: Iterable[str], required: str) -> bool:
    """``*`` passes every check; otherwise the exact scope must be held."""
    return ALL in held or required in held

"""What a signed-in person may do in the console (SPEC §9.3).

Organization admins hold every console permission. Anyone else holds the ones their session
token grants: Clerk's organization permissions (``console.identity``), or a further
provider's ``permissions_claim``. Managing keys implies reading them: the controls that
manage a key sit on the list that shows it.
"""

from __future__ import annotations

API_KEYS_READ = "org:api_keys:read"  # list keys, usage and the audit log
API_KEYS_MANAGE = "org:api_keys:manage"  # create, change, revoke, rotate keys
WEBHOOKS_MANAGE = "org:webhooks:manage"  # webhook endpoints (SPEC §10)

CONSOLE_PERMISSIONS = (API_KEYS_READ, API_KEYS_MANAGE, WEBHOOKS_MANAGE)
IMPLIED = {API_KEYS_MANAGE: (API_KEYS_READ,)}


def effective_permissions(is_admin: bool, granted: frozenset[str]) -> tuple[str, ...]:
    """The console permissions held by an admin or by a token that grants ``granted``
    (organization permission names, ours or not), in ``CONSOLE_PERMISSIONS`` order."""
    if is_admin:
        return CONSOLE_PERMISSIONS
    held = set(granted)
    for permission in list(held):
        held.update(IMPLIED.get(permission, ()))
    return tuple(permission for permission in CONSOLE_PERMISSIONS if permission in held)

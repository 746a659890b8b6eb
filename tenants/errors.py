"""Domain exceptions of the store. Each carries a SPEC §4 error code; HTTP knows the status."""

from typing import Any


class StoreError(Exception):
    code = "INTERNAL_ERROR"
    message = "The request could not be completed"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details


class InvalidInput(StoreError):
    code = "VALIDATION_ERROR"
    message = "The request is not valid"


class NotFound(StoreError):
    code = "NOT_FOUND"
    message = "The requested object does not exist"


class Conflict(StoreError):
    code = "CONFLICT"
    message = "The request conflicts with the current state"


class KeyRevoked(Conflict):
    message = "The API key is revoked and can no longer be changed"


class InvalidKey(StoreError):
    code = "AUTH_INVALID_KEY"
    message = "The provided API key is invalid or expired"

    def __init__(self, message: str | None = None, identified: Any = None):
        super().__init__(message)
        # The key's snapshot when it was found but may not be used (disabled, revoked,
        # expired): its usage counts the refusal. Never shown to the caller.
        self.identified = identified


class DecoyKeyUsed(InvalidKey):
    """A decoy key was presented: refused exactly as an unknown key is (same code, same
    message); ``key`` says which, for the record of its use."""

    def __init__(self, key: Any):
        super().__init__()
        self.key = key


class InsufficientScope(StoreError):
    code = "AUTH_INSUFFICIENT_SCOPE"
    message = "The API key lacks the scope this endpoint requires"

    def __init__(self, required_scope: str):
        super().__init__(
            f"This endpoint requires the '{required_scope}' scope",
            {"required_scope": required_scope},
        )


class IpNotAllowed(StoreError):
    code = "AUTH_IP_NOT_ALLOWED"
    message = "The API key may not be used from this IP address (see its allowed_ips)"


class LicenseInactive(StoreError):
    code = "LICENSE_INACTIVE"
    message = "The tenant's license is not active; writes are blocked until it is renewed"

"""Request bodies of the console API. Strict: wrong types and unknown fields are a 400."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

# PostgreSQL cannot store NUL in text: refuse it as input (400) instead of failing (500).
Name = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC, as the store keeps it. An instant that leaves Python's years 1 to
    9999 on the way (``9999-12-31T23:59:59-14:00`` is already year 10000 in UTC) is refused
    here as a 400, instead of overflowing when the database driver converts it."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must lie between the years 1 and 9999 in UTC") from exc


# ISO 8601 with a UTC offset; JSON has no datetime type, so strings are parsed.
Instant = Annotated[AwareDatetime, Strict(False), AfterValidator(_in_utc)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# The key's notes and limits (SPEC §9.2); the store checks them again, for the CLI too.
Description = Annotated[str, Field(max_length=500, description="Free text, ≤ 500 characters")]
Metadata = Annotated[
    dict[str, str],
    Field(max_length=20, description="≤ 20 string keys of ≤ 40 characters → strings ≤ 500"),
]
AllowedIps = Annotated[
    list[str],
    Field(
        max_length=50,
        description="IPv4/IPv6 addresses or CIDRs the key may be used from; empty: anywhere",
    ),
]
RateLimit = Annotated[
    int,
    Field(ge=0, le=1_000_000, description="Requests per minute; 0: unlimited"),
]


class KeyCreateIn(_Body):
    name: Name
    scopes: list[str] | None = None
    expires_at: Instant | None = None
    mode: Literal["live", "test"] = "live"
    description: Description = ""
    metadata: Metadata | None = None
    allowed_ips: AllowedIps | None = None
    rate_limit_per_minute: RateLimit | None = Field(
        None, description="Requests per minute; null: the deployment default; 0: unlimited"
    )
    decoy: bool = False


class KeyPatchIn(_Body):
    """Only the fields sent change. ``null`` clears ``expires_at`` (no expiry) and
    ``rate_limit_per_minute`` (the deployment default); other fields cannot be null."""

    name: Name | None = None
    enabled: bool | None = None
    scopes: list[str] | None = None
    description: Description | None = None
    metadata: Metadata | None = None
    allowed_ips: AllowedIps | None = None
    rate_limit_per_minute: RateLimit | None = None
    expires_at: Instant | None = None


PATCH_NULLABLE = frozenset({"expires_at", "rate_limit_per_minute"})


class RotateIn(_Body):
    grace_seconds: int = 0


class WebhookCreateIn(_Body):
    url: Name
    events: list[str] = ["*"]
    description: Name = ""
    enabled: bool = True


class WebhookPatchIn(_Body):
    url: Name | None = None
    events: list[str] | None = None
    description: Name | None = None
    enabled: bool | None = None


class SettingsPatchIn(_Body):
    leak_response: str

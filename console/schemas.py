"""Request bodies of the console API. Strict: wrong types and unknown fields are a 400."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Strict, StringConstraints

# PostgreSQL cannot store NUL in text: refuse it as input (400) instead of failing (500).
Name = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class KeyCreateIn(_Body):
    name: Name
    scopes: list[str] | None = None
    # ISO 8601 with a UTC offset; JSON has no datetime type, so strings are parsed.
    expires_at: Annotated[AwareDatetime, Strict(False)] | None = None


class KeyPatchIn(_Body):
    name: Name | None = None
    enabled: bool | None = None
    scopes: list[str] | None = None


class RotateIn(_Body):
    grace_seconds: int = 0

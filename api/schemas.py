"""Request bodies of the tenant API. Strict: wrong types and unknown fields are a 400."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
# No field accepts NUL: PostgreSQL cannot store it in text, and no human text needs it.
NO_NUL = r"^[^\x00]*$"
Email = Annotated[
    str,
    StringConstraints(pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$", max_length=254),
]
ObjectId = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}_[0-9A-Z]{26}$")]


def _stripped_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


# Text up to a maximum of characters as sent (the documented maxLength), then trimmed.
_TRIMMED = AfterValidator(_stripped_not_blank)
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL), _TRIMMED]
Text4096 = Annotated[
    str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL), _TRIMMED
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageIn(_Body):
    to: E164
    text: Text4096


class ContactIn(_Body):
    name: Text200
    phone: E164
    email: Email | None = None


class TicketIn(_Body):
    subject: Text200
    body: Annotated[str, StringConstraints(max_length=20_000, pattern=NO_NUL)] | None = None
    contact_id: ObjectId | None = None


class BroadcastIn(_Body):
    name: Text200
    text: Text4096
    contact_ids: Annotated[list[ObjectId], Field(min_length=1, max_length=10_000)]

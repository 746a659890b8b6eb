"""The admin's notes on a key (SPEC §9.2): ``description`` and ``metadata``, checked as stored.

Both are shown in every list and kept in the audit log, so key-shaped text in them is
redacted like a key's name (SPEC §5: no table holds a key). Text that is not storable is
refused: NUL, which PostgreSQL cannot store, and a lone surrogate (``"\ud800"`` is valid JSON),
which is not UTF-8: it would reach every event of the key, whose JSON no encoder of UTF-8
bytes writes (docs/security.md, pentest F1).
"""

from __future__ import annotations

from tenants import keyformat
from tenants.errors import InvalidInput

MAX_DESCRIPTION = 500
MAX_METADATA_KEYS = 20
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def storable(text: str) -> bool:
    """No NUL and no lone surrogate: text that PostgreSQL stores and UTF-8 encodes."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def description(text: object) -> str:
    if not isinstance(text, str) or len(text) > MAX_DESCRIPTION or not storable(text):
        raise InvalidInput(
            f"description must be a string of at most {MAX_DESCRIPTION} characters",
            {"field": "description"},
        )
    return keyformat.redact_keys(text.strip())


def metadata(pairs: object) -> dict[str, str]:
    """Up to 20 string keys of 1 to 40 characters, each to a string of at most 500."""
    if not isinstance(pairs, dict) or len(pairs) > MAX_METADATA_KEYS:
        raise InvalidInput(
            f"metadata must be an object of at most {MAX_METADATA_KEYS} entries",
            {"field": "metadata"},
        )
    cleaned: dict[str, str] = {}
    for name, value in pairs.items():
        if (
            not isinstance(name, str)
            or not 1 <= len(name) <= MAX_METADATA_KEY
            or not storable(name)
        ):
            raise InvalidInput(
                f"metadata keys must be strings of 1 to {MAX_METADATA_KEY} characters",
                {"field": "metadata"},
            )
        if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE or not storable(value):
            raise InvalidInput(
                f"metadata values must be strings of at most {MAX_METADATA_VALUE} characters",
                {"field": "metadata", "key": keyformat.redact_keys(name)},
            )
        cleaned[keyformat.redact_keys(name)] = keyformat.redact_keys(value)
    return cleaned

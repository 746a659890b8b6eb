"""The API key format: ``<prefix>_live_`` or ``<prefix>_test_`` + 32 base62 characters.

The last 6 of the 32 are the base62 CRC32 of everything before them (GitHub's token scheme):
a mistyped or truncated key is refused before any lookup, and secret scanners can recognise
a leaked key by its shape and checksum.
"""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
RANDOM_LENGTH = BODY_LENGTH - CHECKSUM_LENGTH
MODES = ("live", "test")  # SPEC §9.1: a key and everything written with it is one or the other


# Base62 digit pairs: a CRC32 (< 62**6) is three table lookups, not a loop of six divisions.
# The checksum is computed for every key a worker has not verified before.
_PAIRS = [high + low for high in BASE62 for low in BASE62]
_PAIR_BASE = len(_PAIRS)


def checksum(text: str) -> str:
    """The base62 CRC32 of ``text``: 6 characters, most significant first, zero-padded."""
    rest, low = divmod(zlib.crc32(text.encode("ascii")), _PAIR_BASE)
    high, middle = divmod(rest, _PAIR_BASE)
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


@dataclass(frozen=True)
class NewKey:
    full_key: str
    display_start: str
    last4: str


def generate(prefix: str, mode: str = "live") -> NewKey:
    if mode not in MODES:
        raise ValueError(f"unknown key mode {mode!r}")
    head = f"{prefix}_{mode}_" + "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    full_key = head + checksum(head)
    return NewKey(full_key, display_start(full_key, prefix), full_key[-4:])


def display_start(full_key: str, prefix: str) -> str:
    """``lw_live_AbCd`` (``lw_test_AbCd``): enough to recognise a key in a list, far too
    little to use it. Both markers have the same length."""
    return full_key[: len(prefix) + len("_live_") + 4]


class KeyShape:
    """The shape of the keys of one prefix, either mode, worked out once: checked on every
    API request."""

    def __init__(self, prefix: str):
        self.markers = (f"{prefix}_live_", f"{prefix}_test_")  # of one length
        self.body_starts = len(self.markers[0])
        self.length = self.body_starts + BODY_LENGTH

    def is_well_formed(self, candidate: str) -> bool:
        """Shape and checksum only: no database, no secrets compared."""
        if len(candidate) != self.length or not candidate.startswith(self.markers):
            return False
        body = candidate[self.body_starts :]
        # ``isascii() and isalnum()`` is exactly [0-9A-Za-z]: no Unicode digits or letters pass.
        if not (body.isascii() and body.isalnum()):
            return False
        return checksum(candidate[:-CHECKSUM_LENGTH]) == candidate[-CHECKSUM_LENGTH:]


def is_well_formed(candidate: str, prefix: str) -> bool:
    """Shape and checksum of ``candidate`` as a key of ``prefix``."""
    return KeyShape(prefix).is_well_formed(candidate)


def looks_like_key(text: str) -> bool:
    """True when ``text`` carries a key marker, ``_live_`` or ``_test_``: a key of either
    mode, or a near miss of one.

    Used to refuse echoing client-sent values: a mistyped key is still most of a secret.
    """
    return "_live_" in text or "_test_" in text


# Any prefix, either mode, and at least 6 base62 characters: a truncated or mistyped key is
# still most of a secret. Used wherever client-sent text may reach a log line, an error
# message or a table (SPEC §5).
_KEY_LIKE = re.compile(r"[0-9A-Za-z]*_(?:live|test)_[0-9A-Za-z]{6,}")
REDACTED = "[redacted key]"


def redact_keys(text: str) -> str:
    """``text`` with every key-shaped run replaced by ``[redacted key]``."""
    if "_live_" not in text and "_test_" not in text:  # the common case: no regex at all
        return text
    return _KEY_LIKE.sub(REDACTED, text)

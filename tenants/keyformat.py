"""The API key format: ``<prefix>_live_`` + 32 base62 characters.

The last 6 of the 32 are the base62 CRC32 of everything before them (GitHub's token scheme):
a mistyped or truncated key is refused before any lookup, and secret scanners can recognise
a leaked key by its shape and checksum.
"""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass
from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
RANDOM_LENGTH = BODY_LENGTH - CHECKSUM_LENGTH
MAX_KEY_LENGTH = 100


def base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, remainder = divmod(number, 62)
        chars.append(BASE62[remainder])
    return "".join(reversed(chars)).rjust(width, "0")


def checksum(text: str) -> str:
    return base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


@lru_cache(maxsize=16)
def _pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(prefix)}_live_[0-9A-Za-z]{{{BODY_LENGTH}}}", re.ASCII)


@dataclass(frozen=True)
class NewKey:
    full_key: str
    display_start: str
    last4: str


def generate(prefix: str) -> NewKey:
    head = f"{prefix}_live_" + "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    full_key = head + checksum(head)
    return NewKey(full_key, display_start(full_key, prefix), full_key[-4:])


def display_start(full_key: str, prefix: str) -> str:
    """``lw_live_AbCd``: enough to recognise a key in a list, far too little to use it."""
    return full_key[: len(prefix) + len("_live_") + 4]


def is_well_formed(candidate: str, prefix: str) -> bool:
    """Shape and checksum only: no database, no secrets compared."""
    if len(candidate) > MAX_KEY_LENGTH or not _pattern(prefix).fullmatch(candidate):
        return False
    head, tail = candidate[:-CHECKSUM_LENGTH], candidate[-CHECKSUM_LENGTH:]
    return checksum(head) == tail


def looks_like_key(text: str) -> bool:
    """True when ``text`` carries the key marker ``_live_``: a key, or a near miss of one.

    Used to refuse echoing client-sent values: a mistyped key is still most of a secret.
    """
    return "_live_" in text

"""Integers from query strings (``?limit=``, ``?days=``)."""

from __future__ import annotations

# More digits than any accepted value has, leading zeros included. ``int()`` itself refuses
# strings of over 4,300 digits with a ValueError; the check below never lets one reach it.
MAX_DIGITS = 10


def bounded_int(raw: str, low: int, high: int) -> int | None:
    """``raw`` as an integer from ``low`` to ``high``; ``None`` for anything else.

    ASCII digits only: ``str.isdigit`` alone accepts digits such as ``²`` or ``٣``.
    """
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS):
        return None
    value = int(raw)
    return value if low <= value <= high else None

"""Public object ids: a type prefix and a time-ordered random part (``con_01JD...``).

Ids sort by creation time (monotonic within a process, like ULIDs), so cursor pagination
can order by id alone.
"""

import re
import secrets
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_SHAPE = re.compile(r"[a-z]{3}_[0-9A-Z]{26}")
_lock = threading.Lock()
_last = 0


def new_id(prefix: str) -> str:
    global _last
    with _lock:
        value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
        if value <= _last:
            value = _last + 1
        _last = value
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"

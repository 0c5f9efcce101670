"""Sortable unique ids (`key_01J...`, `evt_01J...`, `req_01J...`): ULIDs, 48-bit milliseconds then
80 random bits in Crockford base32, so ids sort by creation time and need no coordination.

Within one millisecond a process increments the random part instead of drawing a new one, so
its ids (and the audit log ordered by them) keep the order they were made in.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["id_time_ms", "new_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0


def new_id(prefix: str) -> str:
    global _last
    ms = time.time_ns() // 1_000_000
    with _lock:
        n = (ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
        if n >> _RANDOM_BITS <= _last >> _RANDOM_BITS:
            n = _last + 1  # same (or an earlier, after a clock step) millisecond
        _last = n
    chars = []
    for _ in range(26):
        n, r = divmod(n, 32)
        chars.append(_CROCKFORD[r])
    return prefix + "".join(reversed(chars))


def id_time_ms(item_id: str) -> int:
    """When an id was made, in Unix milliseconds: its first ten ULID characters."""
    ulid = item_id[item_id.index("_") + 1 :]
    n = 0
    for ch in ulid[:10]:
        n = n * 32 + _CROCKFORD.index(ch)
    return n

"""Sortable unique ids (`key_01J...`, `evt_01J...`, `req_01J...`): ULIDs, 48-bit milliseconds then
80 random bits in Crockford base32, so ids sort by creation time and need no coordination.

Within one millisecond a process increments the random part instead of drawing a new one, so
its ids (and the audit log ordered by them) keep the order they were made in. Request ids are
minted for every refusal, so the encoding takes two characters per table lookup.
"""

from __future__ import annotations

import os
import re
import threading
import time

__all__ = ["ULID_PATTERN", "id_pattern", "id_time_ms", "new_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"  # what follows the prefix: 26 of `_CROCKFORD`
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> two characters
_LOW_BITS = 20  # the part that counts up within a millisecond
_LOW_MASK = (1 << _LOW_BITS) - 1
_HIGH_LIMIT = 1 << (80 - _LOW_BITS)
_lock = threading.Lock()
_last_ms = -1
_high = _low = 0
_prefix_text = ""  # the time and the high random bits: fixed within a millisecond


def _encode(n: int, pairs: int) -> str:
    """`n` as 2 * `pairs` Crockford characters, most significant first."""
    return "".join([_PAIRS[(n >> (10 * i)) & 1023] for i in range(pairs - 1, -1, -1)])


def _next_millisecond(ms: int) -> None:
    global _last_ms, _high, _low, _prefix_text
    random = int.from_bytes(os.urandom(10), "big")
    _last_ms, _high, _low = ms, random >> _LOW_BITS, random & _LOW_MASK
    _prefix_text = _encode(ms, 5) + _encode(_high, 6)


def new_id(prefix: str) -> str:
    global _high, _low, _prefix_text
    ms = time.time_ns() // 1_000_000
    with _lock:
        if ms > _last_ms:
            _next_millisecond(ms)
        else:  # same millisecond (or the clock stepped back): count up, keeping the order
            _low = (_low + 1) & _LOW_MASK
            if _low == 0:
                _high += 1
                if _high == _HIGH_LIMIT:  # 2**80 ids in one millisecond: use the next one
                    _next_millisecond(_last_ms + 1)
                else:
                    _prefix_text = _encode(_last_ms, 5) + _encode(_high, 6)
        return prefix + _prefix_text + _PAIRS[_low >> 10] + _PAIRS[_low & 1023]


def id_pattern(prefix: str) -> re.Pattern[str]:
    """What an id made by `new_id(prefix)` looks like, for `fullmatch`."""
    return re.compile(re.escape(prefix) + ULID_PATTERN)


def id_time_ms(item_id: str) -> int:
    """When an id was made, in Unix milliseconds: its first ten ULID characters."""
    ulid = item_id[item_id.index("_") + 1 :]
    n = 0
    for ch in ulid[:10]:
        n = n * 32 + _CROCKFORD.index(ch)
    return n

"""The rate-limit header fields of a response, per draft-ietf-httpapi-ratelimit-headers-10
(27 September 2025), "RateLimit header fields for HTTP".

Both fields are Structured Field Lists (RFC 9651, section 3.1) of Items with Parameters:

- `RateLimit-Policy` (draft section 3): every limit of the key, each an Item whose value MUST be
  a String (section 3; the limit's name, quoted and escaped per RFC 9651 section 4.1.6) with `q`,
  the quota (section 3.1.1: the count N), and `w`, the window in whole seconds (section 3.1.3;
  keyguard's windows are whole seconds). `qu` is left out: its default, "requests", is ours.
  This field SHOULD stay the same from one response to the next (section 3), so it names every
  limit and depends on nothing but the limits: `rate_limit_policy` builds it once per key.
- `RateLimit` (section 4): one Service Limit Item naming a policy, with `r`, the remaining units
  (section 4.1.1), and `t`, the seconds until more quota is made available (section 4.1.2).

Which limit `RateLimit` reports when several apply: the one closest to being exhausted, alone,
as the draft's examples do (Appendix B.1.2 "Multiple policies in response" and B.3.2 "Use with
multiple windows": the daily limit, closer to exhaustion, is reported and the hourly one omitted,
while `RateLimit-Policy` lists both). Closest is the least remaining; on a tie, the longer wait
for more. On a refusal that is always a limit that refused (its remaining is below the cost).

A key's quota is one more policy, named "quota" (`usage_policy`, `usage_headers`): in
`RateLimit` its `r` is what is left and `t` the seconds until its next refill (no `t` when it
never refills), and it is reported when it is the closest to exhaustion, as above.

`t` is the ms until that limit's remaining grows by one, rounded up to whole seconds: GCRA gives
quota back one unit at a time, and "additional quota is made available" (section 4.1.2) at the
next unit, not when the bucket is full again. Rounding up means a client that waits `t` finds the
unit there. It also keeps `Retry-After` (on a refusal: the wait until every limit admits the same
request, in whole seconds rounded up, never 0) at or after `t`, as section 6 asks ("the
Retry-After field value SHOULD NOT reference a point in time earlier than the reset parameter").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from ._gcra import RateDecision
from ._quotas import Quota, next_refill_ms
from ._rate_limits import QUOTA_POLICY, RateLimit
from ._usage import UsageDecision

__all__ = [
    "DRAFT",
    "QUOTA_POLICY",
    "rate_limit_headers",
    "rate_limit_policy",
    "sf_string",
    "usage_headers",
    "usage_policy",
]

DRAFT = "draft-ietf-httpapi-ratelimit-headers-10"
_POLICY = b"ratelimit-policy"
_RATELIMIT = b"ratelimit"
_RETRY_AFTER = b"retry-after"


class _Row(NamedTuple):
    name: str
    remaining: int
    reset_ms: int | None  # None: never by waiting (a quota with no refill)


def sf_string(text: str) -> str:
    """`text` as an RFC 9651 String (section 4.1.6): quoted, `\\` and `"` escaped; only
    printable ASCII (%x20-7E) may be carried, anything else is a ValueError."""
    if any(not 0x20 <= ord(char) <= 0x7E for char in text):
        raise ValueError("a structured-field String carries printable ASCII only")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rate_limit_policy(limits: Sequence[RateLimit]) -> bytes:
    """The `RateLimit-Policy` value of a key's limits (a non-empty List: section 3)."""
    return usage_policy(limits, None)


def usage_policy(limits: Sequence[RateLimit], quota: Quota | None) -> bytes:
    """`RateLimit-Policy` for a key's rate limits and its quota: the quota is a policy named
    "quota" whose `q` is its refill amount and `w` its refill interval (section 3.1.3: the
    window over which the quota is granted), or, with no refill, `q` alone: the allowance."""
    items = [f"{sf_string(lim.name)};q={lim.limit};w={lim.window_ms // 1000}" for lim in limits]
    if quota is not None:
        if quota.refill_amount is None or quota.refill_interval_ms is None:
            items.append(f"{sf_string(QUOTA_POLICY)};q={quota.remaining}")
        else:
            every = quota.refill_interval_ms // 1000
            items.append(f"{sf_string(QUOTA_POLICY)};q={quota.refill_amount};w={every}")
    if not items:
        raise ValueError("RateLimit-Policy is a non-empty list: give at least one limit")
    return ", ".join(items).encode("ascii")


@functools.lru_cache(maxsize=256)
def _quoted(name: str) -> str:
    """`sf_string(name)` for the RateLimit field, on every limited response: names are few
    (a limit's text or name, "quota"), so each is quoted once."""
    return sf_string(name)


def _seconds_up(ms: int) -> int:
    return -(-ms // 1000)


def rate_limit_headers(
    limits: Sequence[RateLimit],
    decision: RateDecision,
    policy: bytes | None = None,
) -> list[tuple[bytes, bytes]]:
    """The header fields (ASGI's lowercase names) for a response of a key with rate limits
    only: both fields always, `Retry-After` too when `decision` refused."""
    if len(decision.remaining) != len(limits):
        raise ValueError("the decision is not for these limits")
    rows = [
        _Row(lim.name, left, reset)
        for lim, left, reset in zip(limits, decision.remaining, decision.reset_ms, strict=True)
    ]
    return _fields(
        policy or rate_limit_policy(limits), rows, decision.admitted, decision.retry_after_ms
    )


def usage_headers(
    limits: Sequence[RateLimit], decision: UsageDecision, policy: bytes
) -> list[tuple[bytes, bytes]]:
    """As `rate_limit_headers`, for a decision under rate limits and a quota; `policy`:
    `usage_policy(limits, quota)`, built once per key. A spent quota with no refill gets no
    `Retry-After`: no wait would help."""
    rate = decision.rate
    rows = [
        _Row(lim.name, left, reset)
        for lim, left, reset in zip(limits, rate.remaining, rate.reset_ms, strict=True)
    ]
    if decision.quota is not None:
        refill = next_refill_ms(decision.quota, decision.now_ms)
        rows.append(_Row(QUOTA_POLICY, decision.quota.remaining, refill))
    return _fields(policy, rows, decision.admitted, decision.retry_after_ms)


def _exhaustion(row: _Row) -> tuple[int, int]:
    return row.remaining, -(2**63 if row.reset_ms is None else row.reset_ms)


def _fields(
    policy: bytes, rows: Sequence[_Row], admitted: bool, retry_after_ms: int | None
) -> list[tuple[bytes, bytes]]:
    # The least remaining; on a tie the longest wait (None, never, is the longest).
    closest = rows[0] if len(rows) == 1 else min(rows, key=_exhaustion)
    item = f"{_quoted(closest.name)};r={closest.remaining}"
    if closest.reset_ms is not None:
        item += f";t={_seconds_up(closest.reset_ms)}"
    headers = [(_POLICY, policy), (_RATELIMIT, item.encode("ascii"))]
    if not admitted and retry_after_ms is not None:
        wait = max(1, _seconds_up(retry_after_ms or 0))
        headers.append((_RETRY_AFTER, b"%d" % wait))
    return headers

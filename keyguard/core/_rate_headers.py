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

`t` is the ms until that limit's remaining grows by one, rounded up to whole seconds: GCRA gives
quota back one unit at a time, and "additional quota is made available" (section 4.1.2) at the
next unit, not when the bucket is full again. Rounding up means a client that waits `t` finds the
unit there. It also keeps `Retry-After` (on a refusal: the wait until every limit admits the same
request, in whole seconds rounded up, never 0) at or after `t`, as section 6 asks ("the
Retry-After field value SHOULD NOT reference a point in time earlier than the reset parameter").
"""

from __future__ import annotations

from collections.abc import Sequence

from ._gcra import RateDecision
from ._rate_limits import RateLimit

__all__ = ["DRAFT", "rate_limit_headers", "rate_limit_policy", "sf_string"]

DRAFT = "draft-ietf-httpapi-ratelimit-headers-10"
_POLICY = b"ratelimit-policy"
_RATELIMIT = b"ratelimit"
_RETRY_AFTER = b"retry-after"


def sf_string(text: str) -> str:
    """`text` as an RFC 9651 String (section 4.1.6): quoted, `\\` and `"` escaped; only
    printable ASCII (%x20-7E) may be carried, anything else is a ValueError."""
    if any(not 0x20 <= ord(char) <= 0x7E for char in text):
        raise ValueError("a structured-field String carries printable ASCII only")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rate_limit_policy(limits: Sequence[RateLimit]) -> bytes:
    """The `RateLimit-Policy` value of a key's limits (a non-empty List: section 3)."""
    if not limits:
        raise ValueError("RateLimit-Policy is a non-empty list: give at least one limit")
    items = (f"{sf_string(lim.name)};q={lim.limit};w={lim.window_ms // 1000}" for lim in limits)
    return ", ".join(items).encode("ascii")


def _seconds_up(ms: int) -> int:
    return -(-ms // 1000)


def rate_limit_headers(
    limits: Sequence[RateLimit],
    decision: RateDecision,
    policy: bytes | None = None,
) -> list[tuple[bytes, bytes]]:
    """The header fields (ASGI's lowercase names) for a response of a limited key: both fields
    always, `Retry-After` too when `decision` refused. `policy`: `rate_limit_policy(limits)`, if
    the caller built it once already."""
    if len(decision.remaining) != len(limits):
        raise ValueError("the decision is not for these limits")
    if policy is None:
        policy = rate_limit_policy(limits)
    closest = min(range(len(limits)), key=lambda i: (decision.remaining[i], -decision.reset_ms[i]))
    item = (
        f"{sf_string(limits[closest].name)};r={decision.remaining[closest]}"
        f";t={_seconds_up(decision.reset_ms[closest])}"
    )
    headers = [(_POLICY, policy), (_RATELIMIT, item.encode("ascii"))]
    if not decision.admitted:
        wait = max(1, _seconds_up(decision.retry_after_ms or 0))
        headers.append((_RETRY_AFTER, b"%d" % wait))
    return headers

"""Per-key rate limits counted in Redis: `keyguard.core.gcra()` as one script, one round trip.

Every limit of a key is decided by one Lua script against one hash, `<prefix>rl:{<key id>}`
(the braces are a hash tag: a key's later keys, a quota say, land on the same Redis Cluster
slot), so the check and the update are atomic across every process and host. The hash holds a
field per limit, named by the limit's canonical text (`100/s`): a changed limit reads a field
that does not exist yet and starts fresh, while a renamed one keeps its count. Two limits with
the same text share a field, which is right: they are the same bucket, updated together.

Each TAT is stored as "<whole ms>:<leftover ticks>" = divmod(tat, k). Lua numbers are doubles,
exact only up to 2^53, and now_ms * k can pass that; so the script, like `_gcra`, works only
with how far the TAT runs ahead of now, never more than lcm(N, W ms) <= 2^53 (which
`RateLimit` guarantees), and divides with `math.fmod`, which is exact, where Lua's `%` is not.

Time is Redis's own clock (`TIME`), read inside the script: the TATs are shared by every
process, and processes on hosts whose clocks disagree by a second would otherwise see a key's
bucket fuller or emptier than it is (a clock behind admits early, a clock ahead refuses and
pushes the TAT further). One clock for every process keeps the shared TAT meaningful. Tests
pass `now_ms` instead, to compare each decision with the pure core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis

from keyguard.core import (
    MAX_RATE_LIMITS,
    NO_RATE,
    CacheUnavailableError,
    Quota,
    RateDecision,
    RateLimit,
    UsageDecision,
    combined,
)

from ._redis import KEY_PREFIX, RedisKeyCache, _redis_errors, redis_client
from ._urls import mask_url

__all__ = ["RATE_LIMITS_KEY", "RedisRateLimiter"]

RATE_LIMITS_KEY = "rl:"  # under the prefix: keyguard:rl:{<key id>}
# rate admits, retry_after_ms, quota admits (-1: no quota), its remaining, refilled at, now
_REPLY_HEAD = 6
_REPLY_PER_LIMIT = 4  # remaining, reset_ms, TAT's whole ms (-1: none), TAT's leftover ticks
_QUOTA_TTL_MS = 400 * 86_400_000  # past the longest refill interval: a quota is not forgotten
# KEYS[1]: the key's hash. ARGV: now_ms ('' = Redis's clock), cost, ttl (ms), then the quota:
# set_at ('' = no quota), remaining, refill amount (-1: none), refill interval, refilled at;
# then per limit: field, k (ticks per ms), T (interval, ticks), C (capacity, ticks). Reply: see
# _REPLY_HEAD, then per limit: remaining, reset_ms, tat_ms, tat_ticks.
_GCRA = """
-- Before Redis 5, TIME followed by writes needs effects replication asked for; later it is
-- the default (and from 7 the only mode, the call a no-op).
if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[1] == '' then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
    now = tonumber(ARGV[1])
end
local cost, ttl = tonumber(ARGV[2]), ARGV[3]
-- a // b and a % b for whole doubles 0 <= a <= 2^53: C's fmod is exact; Lua's '%'
-- (a - floor(a / b) * b) rounds a / b first.
local function divmod(a, b)
    local r = math.fmod(a, b)
    return (a - r) / b, r
end
-- whole ms until `units` fit: ceil((ahead + units*T - C) / k), 0 if they fit now. Each term
-- stays within [-C, C]: exact.
local function wait(ahead, k, t, c, units)
    local over = (ahead - c) + units * t
    if over <= 0 then return 0 end
    local q, r = divmod(over, k)
    if r > 0 then q = q + 1 end
    return q
end
-- The quota: field 'q' = "set_at:remaining:refilled_at", started from ARGV when it holds
-- another setting's count (or none). A due refill sets it to max(remaining, amount), on the
-- original schedule, as keyguard.core.refilled does.
local q_set, q_ok, q_left, q_at = ARGV[4], -1, -1, -1
if q_set ~= '' then
    local kept = redis.call('HGET', KEYS[1], 'q') or ''
    local set, left, at = string.match(kept, '^(%d+):(%d+):(%d+)$')
    if set ~= q_set then left, at = ARGV[5], ARGV[8] end
    q_left, q_at = tonumber(left), tonumber(at)
    local amount, every = tonumber(ARGV[6]), tonumber(ARGV[7])
    if amount >= 0 and now - q_at >= every then
        local periods = divmod(now - q_at, every)
        q_at = q_at + periods * every
        q_left = math.max(q_left, amount)
    end
    q_ok = 1
    if q_left < cost then q_ok = 0 end
end
local n = (#ARGV - 8) / 4
local fields, ks, ts, cs, aheads, tats = {}, {}, {}, {}, {}, {}
for i = 1, n do
    local at = 8 + (i - 1) * 4
    fields[i] = ARGV[at + 1]
    ks[i], ts[i], cs[i] = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
end
local stored = {}
if n > 0 then stored = redis.call('HMGET', KEYS[1], unpack(fields)) end
local retry = 0
for i = 1, n do
    local ms, ticks = string.match(stored[i] or '', '^(%d+):(%d+)$')
    -- only this script writes here: an unreadable field (a hand edit) counts as fresh
    ms, ticks = tonumber(ms), tonumber(ticks)
    tats[i] = {ms or -1, ticks or 0}
    aheads[i] = 0
    if ms and ms >= now then aheads[i] = (ms - now) * ks[i] + ticks end
    retry = math.max(retry, wait(aheads[i], ks[i], ts[i], cs[i], cost))
end
if retry == 0 and q_ok ~= 0 then
    for i = 1, n do
        aheads[i] = aheads[i] + cost * ts[i]
        local ms, ticks = divmod(aheads[i], ks[i])
        tats[i] = {now + ms, ticks}
        redis.call('HSET', KEYS[1], fields[i], string.format('%d:%d', now + ms, ticks))
    end
    if q_ok == 1 then
        q_left = q_left - cost
        redis.call('HSET', KEYS[1], 'q', q_set .. string.format(':%d:%d', q_left, q_at))
    end
    redis.call('PEXPIRE', KEYS[1], ttl)
end
local reply = {retry == 0 and 1 or 0, retry == 0 and -1 or retry, q_ok, q_left, q_at, now}
for i = 1, n do
    local remaining = divmod(cs[i] - aheads[i], ts[i])
    local reset = 0
    if aheads[i] > 0 then reset = wait(aheads[i], ks[i], ts[i], cs[i], remaining + 1) end
    for _, value in ipairs({remaining, reset, tats[i][1], tats[i][2]}) do
        reply[#reply + 1] = value
    end
end
return reply
"""


class RedisRateLimiter:
    """A key's limits shared by every process through Redis; Redis's own errors leave as
    `CacheUnavailableError` (what to do then, fail open or closed, is the caller's choice)."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = KEY_PREFIX,
        gate: asyncio.Semaphore | None = None,
        where: str = "Redis",
    ) -> None:
        self.client = client
        self.prefix = prefix + RATE_LIMITS_KEY
        # Shared with the cache when built by `sharing`: together they stay within the pool.
        self._gate = gate or asyncio.Semaphore(50)
        self.where = where
        # redis-py's Script sends EVALSHA and, on NOSCRIPT (a restarted or flushed Redis),
        # loads the script and sends it again.
        self._script = client.register_script(_GCRA)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = KEY_PREFIX,
        timeout: float = 0.25,
        max_connections: int = 50,
    ) -> RedisRateLimiter:
        """Its own client, with the cache's timeouts: a dead Redis costs a check `timeout`."""
        client = redis_client(url, timeout=timeout, max_connections=max_connections)
        return cls(
            client,
            prefix=prefix,
            gate=asyncio.Semaphore(max_connections),
            where=f"Redis at {mask_url(url)}",
        )

    @classmethod
    def sharing(cls, cache: RedisKeyCache) -> RedisRateLimiter:
        """One over a `RedisKeyCache`'s client, gate and prefix (no second pool)."""
        return cls(cache.client, prefix=cache.prefix, gate=cache.gate, where=cache.where)

    def state_key(self, key_id: str) -> str:
        return f"{self.prefix}{{{key_id}}}"

    async def check(
        self,
        key_id: str,
        limits: Sequence[RateLimit],
        cost: int = 1,
        *,
        now_ms: int | None = None,
    ) -> RateDecision:
        """Decide one request of `cost` under every limit, as `gcra()` would, in one round
        trip; a key without limits makes none. `now_ms`: None for Redis's clock."""
        if not limits:
            return NO_RATE
        return (await self.decide(key_id, limits, None, cost, now_ms=now_ms)).rate

    async def decide(
        self,
        key_id: str,
        limits: Sequence[RateLimit],
        quota: Quota | None,
        cost: int = 1,
        *,
        now_ms: int | None = None,
    ) -> UsageDecision:
        """Decide one request under every limit and the quota, as `decide_usage()` would from
        the stored state, in one round trip. `quota` is the key's setting: its count here is
        started from it when it holds another setting's (`Quota.set_at_ms`) or none."""
        if len(limits) > MAX_RATE_LIMITS:
            raise ValueError(f"at most {MAX_RATE_LIMITS} limits")
        if not 0 <= cost <= min((limit.limit for limit in limits), default=cost):
            raise ValueError("the cost must be from 0 to the smallest limit's count")
        ttl = max((limit.window_ms for limit in limits), default=1000)
        args: list[str | int] = ["" if now_ms is None else now_ms, cost]
        args += [_QUOTA_TTL_MS, *_quota_args(quota)] if quota else [ttl, "", -1, -1, -1, -1]
        for limit in limits:
            args += [limit.text, limit.ticks_per_ms, limit.interval_ticks, limit.capacity_ticks]
        async with _redis_errors(self.where), self._gate:
            reply = await self._script(keys=[self.state_key(key_id)], args=args)
        return self._decision(reply, limits, quota)

    def _decision(
        self, reply: Any, limits: Sequence[RateLimit], quota: Quota | None
    ) -> UsageDecision:
        """The script's reply as the core's decision; anything else is Redis failing."""
        try:
            values = [int(value) for value in reply]
        except (TypeError, ValueError):
            values = []
        if len(values) != _REPLY_HEAD + _REPLY_PER_LIMIT * len(limits):
            raise CacheUnavailableError(f"{self.where} answered the rate limit oddly")
        admitted, retry_after_ms, quota_ok, left, refilled_at, now = values[:_REPLY_HEAD]
        rows = [
            values[at : at + _REPLY_PER_LIMIT]
            for at in range(_REPLY_HEAD, len(values), _REPLY_PER_LIMIT)
        ]
        rate = RateDecision(
            admitted=bool(admitted),
            tats=tuple(
                None if ms < 0 else ms * limit.ticks_per_ms + ticks
                for (_, _, ms, ticks), limit in zip(rows, limits, strict=True)
            ),
            remaining=tuple(row[0] for row in rows),
            reset_ms=tuple(row[1] for row in rows),
            retry_after_ms=None if admitted else retry_after_ms,
        )
        state = None
        if quota is not None:
            if quota_ok < 0 or left < 0 or refilled_at < 0:
                raise CacheUnavailableError(f"{self.where} answered the quota oddly")
            state = replace(quota, remaining=left, refilled_at_ms=refilled_at)
        return combined(rate, state, quota_ok != 0, now)

    async def forget(self, key_id: str) -> None:
        """Drop a key's counters (it was revoked): nothing of it stays in Redis."""
        async with _redis_errors(self.where), self._gate:
            await self.client.delete(self.state_key(key_id))

    async def close(self) -> None:
        await self.client.aclose()


def _quota_args(quota: Quota) -> list[str | int]:
    interval = quota.refill_interval_ms
    amount = -1 if quota.refill_amount is None or interval is None else quota.refill_amount
    return [
        str(quota.set_at_ms),
        quota.remaining,
        amount,
        -1 if interval is None else interval,
        quota.refilled_at_ms,
    ]

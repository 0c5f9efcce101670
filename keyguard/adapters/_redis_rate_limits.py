"""Per-key rate limits counted in Redis: `keyguard.core.gcra()` as one script, one round trip.

Every limit of a key and its quota are decided by one Lua script against one hash,
`<prefix>rl:{<key id>}` (one key per call, so any Redis Cluster slot will do; the braces are a
hash tag, for any later key of the same key id to share it), so the check and the update are
atomic across every process and host. The hash holds a
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

from redis.exceptions import NoScriptError

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

from ._redis import (
    KEY_PREFIX,
    REDIS_FAILURES,
    RedisClient,
    RedisKeyCache,
    _redis_errors,
    _unavailable,
    redis_client,
)
from ._redis_cluster import run_script
from ._redis_rate_script import GCRA_SCRIPT
from ._urls import mask_url

__all__ = ["RATE_LIMITS_KEY", "RedisRateLimiter"]

RATE_LIMITS_KEY = "rl:"  # under the prefix: keyguard:rl:{<key id>}
# rate admits, retry_after_ms, quota admits (-1: no quota), its remaining, refilled at, now
_REPLY_HEAD = 6
_REPLY_PER_LIMIT = 4  # remaining, reset_ms, TAT's whole ms (-1: none), TAT's leftover ticks
_QUOTA_TTL_MS = 400 * 86_400_000  # past the longest refill interval: a quota is not forgotten
_MAX_MEMO = 10_000  # keys' script arguments kept: as many as the middleware keeps identities


class RedisRateLimiter:
    """A key's limits shared by every process through Redis; Redis's own errors leave as
    `CacheUnavailableError` (what to do then, fail open or closed, is the caller's choice)."""

    def __init__(
        self,
        client: RedisClient,
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
        # Its SHA is sent with EVALSHA; on NOSCRIPT (a restarted or flushed Redis, a promoted
        # replica) the script is sent whole, to that node alone.
        self._script = client.register_script(GCRA_SCRIPT)
        self._memo: dict[
            tuple[int, int],
            tuple[Sequence[RateLimit], Quota | None, int | None, tuple[str | int, ...]],
        ] = {}

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
        least, tail = self._arguments(limits, quota)
        if not 0 <= cost <= (cost if least is None else least):
            raise ValueError("the cost must be from 0 to the smallest limit's count")
        key = f"{self.prefix}{{{key_id}}}"
        try:  # not `_redis_errors()`: this is every limited request's path, a try costs less
            async with self._gate:
                try:
                    reply = await self.client.evalsha(
                        self._script.sha, 1, key, "" if now_ms is None else now_ms, cost, *tail
                    )
                except NoScriptError:  # a restarted or flushed Redis, a promoted replica
                    args = ["" if now_ms is None else now_ms, cost, *tail]
                    reply = await run_script(self.client, self._script, [key], args)
        except REDIS_FAILURES as exc:
            raise _unavailable(self.where, exc) from None
        return self._decision(reply, limits, quota)

    def _arguments(
        self, limits: Sequence[RateLimit], quota: Quota | None
    ) -> tuple[int | None, tuple[str | int, ...]]:
        """The smallest limit's count, and the script's arguments after now and the cost: the
        same for every request of a key, so built once per (limits, quota) objects, which the
        caller keeps per cached record. The memo holds them, so their ids stay theirs."""
        memo = self._memo.get((id(limits), id(quota)))
        if memo is not None and memo[0] is limits and memo[1] is quota:
            return memo[2], memo[3]
        if len(limits) > MAX_RATE_LIMITS:
            raise ValueError(f"at most {MAX_RATE_LIMITS} limits")
        least = min((limit.limit for limit in limits), default=None)
        ttl = max((limit.window_ms for limit in limits), default=1000)
        tail: list[str | int] = [_QUOTA_TTL_MS, *_quota_args(quota)] if quota else [ttl]
        tail += [] if quota else ["", -1, -1, -1, -1]
        for limit in limits:
            tail += [limit.text, limit.ticks_per_ms, limit.interval_ticks, limit.capacity_ticks]
        if type(limits) is tuple:  # a list could change under the memo
            if len(self._memo) >= _MAX_MEMO:
                self._memo.clear()
            self._memo[(id(limits), id(quota))] = (limits, quota, least, tuple(tail))
        return least, tuple(tail)

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
            try:  # a count out of range (a hand-edited hash) fails `Quota`'s own checks
                if quota_ok < 0:
                    raise ValueError("no quota decided")
                state = replace(quota, remaining=left, refilled_at_ms=refilled_at)
            except ValueError:
                raise CacheUnavailableError(f"{self.where} answered the quota oddly") from None
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

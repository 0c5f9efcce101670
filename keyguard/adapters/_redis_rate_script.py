"""The Lua script `RedisRateLimiter` runs: every limit of a key and its quota, decided and
updated in one round trip (see `_redis_rate_limits` for why it is shaped as it is). Kept apart
from the Python that calls it, so each reads in one piece.
"""

from __future__ import annotations

__all__ = ["GCRA_SCRIPT"]

# KEYS[1]: the key's hash. ARGV: now_ms ('' = Redis's clock), cost, ttl (ms), then the quota:
# set_at ('' = no quota), remaining, refill amount (-1: none), refill interval, refilled at;
# then per limit: field, k (ticks per ms), T (interval, ticks), C (capacity, ticks). Reply: rate
# admits, retry_after_ms, quota admits (-1: no quota), its remaining, refilled at, now; then
# per limit: remaining, reset_ms, tat_ms, tat_ticks.
GCRA_SCRIPT = """
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
-- The quota: field 'q' = "set_at:remaining:refilled_at", started from ARGV when it holds an
-- older setting's count (or none). A newer one's is kept: a process still holding the old
-- setting for a moment must not start the new count over. A due refill sets it to
-- max(remaining, amount), on the original schedule, as keyguard.core.refilled does.
local q_set, q_ok, q_left, q_at = ARGV[4], -1, -1, -1
if q_set ~= '' then
    local kept = redis.call('HGET', KEYS[1], 'q') or ''
    local set, left, at = string.match(kept, '^(%d+):(%d+):(%d+)$')
    if not set or tonumber(set) < tonumber(q_set) then
        set, left, at = q_set, ARGV[5], ARGV[8]
    end
    q_set = set
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

"""The revocation bound across hosts: a key revoked through host A is refused by hosts B and C
within `max_staleness` (1 s, the default every host runs with), whichever of their links is
down; a host that can reach nothing answers from its local cache only within the bound, and
503 past it, never 200, never 500, never 401 for a valid key.

Each host is a Linux network namespace with a uvicorn server of its own (see `_fleet`), on the
real PostgreSQL and Redis, which only the root namespace can reach: every byte a host
exchanges with them crosses its veth and its forwarders. `-s` prints the measured delays.
"""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from keyguard import CreatedKey, KeyHasher, Settings
from keyguard.adapters._redis import entry_key
from keyguard.adapters._redis_entries import BAD, EntryCodec
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, derive_key

from ..conftest import REDIS_URL
from ..e2e._asgi import PING
from ..e2e._support import auth
from ..e2e._trials import BOUND, Trials
from ._fleet import PEPPER, Fleet, answers_until, revoke_through, wait_subscribers
from ._netns import cut, heal
from ._probe import Answer, Probe

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TRIALS = 10
HEALED_WITHIN = 15.0  # seconds for a healed host's connections to come back: not the bound
DEFAULTS = Settings()  # what every host runs with
# The longest a request may take while a host can reach nothing: Redis, then the store, each
# giving up within its timeout (the invariant: a 503 within the store timeout), plus slack.
LONGEST_ANSWER = DEFAULTS.redis_timeout + DEFAULTS.store_timeout + 0.5


def _redis_vouches(prefix: str, value: str) -> bool:
    """Does the shared Redis hold an entry, under the fleet's prefix, saying the key is valid?"""
    digest = KeyHasher(PEPPER).digest(value)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        raw = client.get(entry_key(prefix, digest))
    finally:
        client.close()
    if not isinstance(raw, bytes) or raw == b"!":
        return False
    decoded = EntryCodec(derive_key(PEPPER, SHARED_CACHE_MAC_CONTEXT), ttl=60.0).decode(digest, raw)
    return decoded is not BAD and decoded[0] is not None and decoded[0].revoked_at is None


async def _revoke_and_measure(
    fleet: Fleet, trials: Trials, http: httpx.AsyncClient, admin: CreatedKey
) -> None:
    """One trial: a fresh key used on every host (so in each local cache and in Redis),
    revoked through A; each host's time to its first 401 is kept."""
    created = await trials.mint()
    await trials.warm(created)
    since = await revoke_through(http, fleet.servers["a"], admin, created)
    # The host that revoked it: refused from the moment the revoke returned.
    response = await http.get(fleet.servers["a"].url + PING, headers=auth(created.value))
    assert response.status_code == 401, response.status_code
    await trials.measure(created, since)


async def test_a_revoke_through_one_host_reaches_the_others_within_the_bound(
    fleet: Fleet, trials: Trials, http: httpx.AsyncClient, admin: CreatedKey
) -> None:
    shared = await trials.mint()
    await trials.warm(shared)
    assert _redis_vouches(fleet.prefix, shared.value), "the hosts' fills did not reach Redis"
    for _ in range(TRIALS):
        await _revoke_and_measure(fleet, trials, http, admin)
    trials.report("three hosts, every link up")


async def test_a_host_cut_from_redis_alone_learns_from_the_store(
    fleet: Fleet, trials: Trials, http: httpx.AsyncClient, admin: CreatedKey
) -> None:
    """B's forwarder to Redis is cut: B hears no notice and finds no entry there, so keys it
    verifies come from the store, and a revoke reaches it through the store's change log."""
    link = fleet.redis_links["b"]
    link.cut()
    try:
        wait_subscribers(fleet.prefix, 2)  # B is off the channel
        for _ in range(TRIALS):
            await _revoke_and_measure(fleet, trials, http, admin)
    finally:
        link.restore()
    wait_subscribers(fleet.prefix, 3)  # healed: B listens again
    trials.report("host B cut from Redis")
    healed = await trials.mint()
    await trials.warm(healed)


async def test_a_host_cut_from_everything_trusts_its_cache_only_within_the_bound(
    fleet: Fleet, trials: Trials, http: httpx.AsyncClient, admin: CreatedKey, probe_in_c: Probe
) -> None:
    c, url = fleet.hosts["c"], fleet.servers["c"].url
    keys = {label: await trials.mint() for label in ("warm", "doomed", "unseen", "revoked")}
    values = {label: created.value for label, created in keys.items()}
    await revoke_through(http, fleet.servers["a"], admin, keys["revoked"])
    response = await http.get(url + PING, headers=auth(values["revoked"]))
    assert response.status_code == 401, response.status_code  # C's first look: the store's
    for label in ("warm", "doomed"):  # filled on C now: fresh in its local cache
        response = await http.get(url + PING, headers=auth(values[label]))
        assert response.status_code == 200, (label, response.status_code)
    warmed = time.monotonic()  # every fill of theirs on C read before this

    cut(c)
    try:
        await revoke_through(http, fleet.servers["a"], admin, keys["doomed"])
        # Long enough that each key is asked again after the bound, however long one of its
        # requests takes (at most LONGEST_ANSWER, checked below).
        seen = await probe_in_c.watch(url, values, until=warmed + BOUND + LONGEST_ANSWER)
    finally:
        heal(c)
    print(f"\nhost C cut: {_figures(seen, warmed)}")
    _check_cut_answers(seen, warmed)
    await _check_healed(http, url + PING, values)


def _figures(seen: dict[str, list[Answer]], warmed: float) -> str:
    """Each key's answers during the cut, and when its last 200 was asked (ms after the
    warming requests; the bound is 1000)."""
    parts = []
    for label, answers in seen.items():
        oks = [sent for sent, _, status in answers if status == 200]
        last = f", last 200 at {(max(oks) - warmed) * 1000:.0f} ms" if oks else ""
        slowest = max(done - sent for sent, done, _ in answers) * 1000
        parts.append(
            f"{label}: {len(answers)} answers {sorted({a[2] for a in answers})}{last},"
            f" slowest {slowest:.0f} ms"
        )
    return "; ".join(parts)


def _check_cut_answers(seen: dict[str, list[Answer]], warmed: float) -> None:
    slow = [(label, a) for label, answers in seen.items() for a in answers]
    slow = [(label, a) for label, a in slow if a[1] - a[0] >= LONGEST_ANSWER]
    assert not slow, f"answers that took {LONGEST_ANSWER} s or more: {slow[:5]}"
    # A key C never saw cannot be checked: 503, never 200, 401 or 500.
    assert seen["unseen"] and {a[2] for a in seen["unseen"]} == {503}, seen["unseen"]
    # C knew this key was revoked: refused while that knowledge is fresh, then 503.
    assert seen["revoked"] and {a[2] for a in seen["revoked"]} <= {401, 503}, seen["revoked"]
    for label in ("warm", "doomed"):  # doomed: revoked through A during the cut
        answers = seen[label]
        assert {a[2] for a in answers} <= {200, 503}, (label, answers)
        # A 200 comes from the local entry, filled before `warmed`: only within the bound.
        late = [a for a in answers if a[2] == 200 and a[0] >= warmed + BOUND]
        assert not late, f"{label}: 200 past the bound: {late}"
        after = [a for a in answers if a[0] >= warmed + BOUND]
        assert after and {a[2] for a in after} == {503}, (label, after)


async def _check_healed(http: httpx.AsyncClient, url: str, values: dict[str, str]) -> None:
    """Back on the network: the revoked keys refused and never accepted, the valid ones
    accepted again (503 until C's links answer, never refused)."""
    for label, wanted, allowed in (
        ("doomed", 401, {401, 503}),
        ("revoked", 401, {401, 503}),
        ("warm", 200, {200, 503}),
        ("unseen", 200, {200, 503}),
    ):
        statuses = await answers_until(http, url, values[label], wanted, within=HEALED_WITHIN)
        assert set(statuses) <= allowed, (label, statuses)
    for label, wanted in (("doomed", 401), ("revoked", 401), ("warm", 200), ("unseen", 200)):
        response = await http.get(url, headers=auth(values[label]))
        assert response.status_code == wanted, (label, response.status_code)

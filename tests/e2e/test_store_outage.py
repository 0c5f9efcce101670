"""The store goes away: cached keys keep working for at most the cache TTL, anything else is a
503 with Retry-After; never a 200 for a key nobody could check, never a 401 for a valid key
because of the outage, never a 500. With Redis gone as well: 503.

The store is the real PostgreSQL behind a TCP proxy this test stops (new connections refused,
open ones cut), or a real database that stops accepting connections.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from keyguard import KeyGuard, PostgresKeyStore, Settings, StoreUnavailableError

from ._faults import FaultyLink
from ._servers import RedisServer
from ._support import PEPPER, InProcess, wait_for
from .conftest import MakeGuard, admin_url


@dataclass(frozen=True)
class Answer:
    sent: float
    done: float
    status: int


async def _answer(target: InProcess, value: str) -> Answer:
    sent = time.monotonic()
    response = await target.ping(value)
    if response.status_code == 503:
        _check_unavailable(response)
    return Answer(sent, time.monotonic(), response.status_code)


def _check_unavailable(response: httpx.Response) -> None:
    assert response.headers.get("retry-after", "").isdigit(), response.headers
    body = response.json()
    assert body["data"] is None
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"


def _store(url: str) -> PostgresKeyStore:
    return PostgresKeyStore(url, timeout=2.0)


async def test_store_unreachable_cached_keys_until_their_ttl_then_503(
    pg_link: FaultyLink, proxied_url: str, make_guard: MakeGuard, account: str
) -> None:
    ttl = 1.0
    settings = Settings(database_url=proxied_url, pepper=PEPPER, local_cache_ttl=ttl)
    guarded = await make_guard(settings, store=_store(proxied_url))
    manager = guarded.guard.manager
    cached = await manager.create(account=account, name="c", environment="live", access="secret")
    uncached = await manager.create(account=account, name="u", environment="live", access="secret")
    revoked = await manager.create(account=account, name="r", environment="live", access="secret")
    await manager.revoke(revoked.record.id)
    assert await guarded.status(revoked.value) == 401
    fill_sent = time.monotonic()
    assert await guarded.status(cached.value) == 200
    fill_done = time.monotonic()

    pg_link.cut()
    outage = time.monotonic()
    answers: dict[str, list[Answer]] = {"cached": [], "uncached": [], "revoked": []}
    values = {"cached": cached.value, "uncached": uncached.value, "revoked": revoked.value}
    deadline = fill_done + ttl + 10
    while not any(a.status == 503 for a in answers["cached"][-1:]):
        assert time.monotonic() < deadline, "the cached key never stopped answering 200"
        for label, value in values.items():
            answers[label].append(await _answer(guarded, value))
        await asyncio.sleep(0.02)

    cached_answers = answers["cached"]
    assert {a.status for a in cached_answers} <= {200, 503}, "a valid key got another answer"
    assert cached_answers[0].status == 200, "the cached key failed at once"
    assert all(a.sent < fill_done + ttl for a in cached_answers if a.status == 200), "past TTL"
    assert all(a.done > fill_sent + ttl for a in cached_answers if a.status == 503), "before TTL"
    assert cached_answers[0].sent >= outage
    assert {a.status for a in answers["uncached"]} == {503}, "an unchecked key got other than 503"
    assert {a.status for a in answers["revoked"]} <= {401, 503}
    for a in answers["revoked"]:
        if a.status == 401:
            assert a.sent < fill_done + ttl, "a 401 given without a fresh lookup behind it"

    # Last-used times that cannot be written now are kept for the next flush.
    last_used = guarded.guard.last_used
    assert last_used.pending >= 1
    await last_used.flush()
    assert last_used.pending >= 1

    pg_link.restore()  # back: everything is checked again
    await wait_for(
        lambda: _is(guarded, uncached.value, 200), within=15, what="the store to answer again"
    )
    assert await guarded.status(cached.value) == 200
    assert await guarded.status(revoked.value) == 401
    await last_used.flush()
    assert last_used.pending == 0
    assert (await manager.get(cached.record.id)).last_used_at is not None


async def test_store_and_redis_both_down_is_503(
    pg_link: FaultyLink,
    proxied_url: str,
    redis_server: RedisServer,
    redis_prefix: str,
    make_guard: MakeGuard,
    account: str,
) -> None:
    ttl = 0.3
    settings = Settings(
        database_url=proxied_url,
        redis_url=redis_server.url,
        redis_prefix=redis_prefix,
        pepper=PEPPER,
        local_cache_ttl=ttl,
    )
    guarded = await make_guard(settings, store=_store(proxied_url))
    verifier = guarded.guard.verifier
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="test", access="secret")
    never_seen = await manager.create(
        account=account, name="n", environment="test", access="secret"
    )
    assert await guarded.status(key.value) == 200  # now in Redis too

    pg_link.cut()
    # Store down, Redis up: Redis may vouch for the key it holds only while this process could
    # still have heard of a change from the store's log, max_staleness after its last read.
    statuses: list[tuple[float, int]] = []
    deadline = time.monotonic() + 10
    while not statuses or statuses[-1][1] != 503:
        assert time.monotonic() < deadline, "Redis was trusted without the change log"
        statuses.append((time.monotonic(), (await _answer(guarded, key.value)).status))
        await asyncio.sleep(0.02)
    assert {s for _, s in statuses} <= {200, 503}
    trusted_until = verifier.shared.trusted_until  # the last read of the log, plus the bound
    assert all(at < trusted_until for at, s in statuses if s == 200), "trusted past the bound"
    assert verifier.shared.lookups > 0, "Redis was never what answered"
    assert (await _answer(guarded, never_seen.value)).status == 503

    redis_server.kill()  # both down: nothing can vouch for any key
    for _ in range(5):
        assert (await _answer(guarded, key.value)).status == 503
        assert (await _answer(guarded, never_seen.value)).status == 503
        await asyncio.sleep(0.02)


async def test_a_database_that_refuses_connections_is_503_not_500(
    own_database: str, make_guard: MakeGuard, account: str
) -> None:
    """PostgreSQL itself refusing the database (`ALLOW_CONNECTIONS false`, backends
    terminated), as during maintenance: every lookup it cannot do is a 503."""
    ttl = 0.3
    settings = Settings(database_url=own_database, pepper=PEPPER, local_cache_ttl=ttl)
    guarded = await make_guard(settings, store=_store(own_database))
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="live", access="secret")
    never_seen = await manager.create(
        account=account, name="n", environment="live", access="secret"
    )
    assert await guarded.status(key.value) == 200
    name = own_database.rsplit("/", 1)[1]
    admin = await asyncpg.connect(admin_url(own_database), timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        statuses = [(await _answer(guarded, never_seen.value)).status for _ in range(3)]
        assert statuses == [503, 503, 503], f"an unverifiable key got {statuses}"
        await asyncio.sleep(ttl)  # the cached key's local entry is stale now
        assert (await _answer(guarded, key.value)).status == 503
    finally:
        # Let the guard's teardown (which flushes last-used times) reach the database again.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_last_used_times_survive_a_database_that_refuses_connections(
    own_database: str, make_guard: MakeGuard, account: str
) -> None:
    """A flush that meets a database refusing connections keeps its times for the next one
    (as it does when the server is unreachable), rather than raising and losing them."""
    settings = Settings(database_url=own_database, pepper=PEPPER)
    guarded = await make_guard(settings, store=_store(own_database))
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="test", access="secret")
    assert await guarded.status(key.value) == 200
    last_used = guarded.guard.last_used
    assert last_used.pending == 1
    name = own_database.rsplit("/", 1)[1]
    admin = await asyncpg.connect(admin_url(own_database), timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        for _ in range(2):  # the first attempt finds its connection gone, the next is refused
            await last_used.flush()
            assert last_used.pending == 1, "last-used times were dropped"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    await last_used.flush()
    assert last_used.pending == 0
    assert (await manager.get(key.record.id)).last_used_at is not None


async def _is(target: InProcess, value: str, status: int) -> bool:
    return await target.status(value) == status


async def test_a_hung_store_answers_503_within_the_store_timeout(
    pg_link: FaultyLink, proxied_url: str, make_guard: MakeGuard, account: str
) -> None:
    """Finding 8: PostgreSQL accepts connections but never answers. Every lookup and every
    change gives up within `store_timeout` (503, not a wait of 5-10 s), while a key cached
    before keeps working up to its TTL; when the store answers again, so does keyguard."""
    timeout = 1.0
    settings = Settings(database_url=proxied_url, pepper=PEPPER, store_timeout=timeout)
    guarded = await make_guard(settings)
    manager = guarded.guard.manager
    cached = await manager.create(account=account, name="c", environment="live", access="secret")
    uncached = await manager.create(account=account, name="u", environment="live", access="secret")
    fill_sent = time.monotonic()
    assert await guarded.status(cached.value) == 200

    pg_link.hang()
    answers = await asyncio.gather(*(_answer(guarded, uncached.value) for _ in range(5)))
    assert [a.status for a in answers] == [503] * 5
    assert max(a.done - a.sent for a in answers) < timeout + 0.5, answers
    still = await _answer(guarded, cached.value)
    assert still.status == (200 if still.sent < fill_sent + settings.local_cache_ttl else 503)

    began = time.monotonic()
    with pytest.raises(StoreUnavailableError):
        await manager.revoke(uncached.record.id)
    assert time.monotonic() - began < timeout + 0.5

    pg_link.restore()
    await wait_for(
        lambda: _is(guarded, uncached.value, 200), within=15, what="the store to answer again"
    )


async def test_starting_against_a_hung_store_gives_up_in_bounded_time(
    pg_link: FaultyLink, proxied_url: str
) -> None:
    pg_link.hang()
    guard = KeyGuard(Settings(database_url=proxied_url, pepper=PEPPER, store_timeout=0.5))
    began = time.monotonic()
    with pytest.raises(StoreUnavailableError):
        await guard.start()
    # Three connection attempts of at most 0.5 s each, with 0.4 s and 0.8 s between them.
    assert time.monotonic() - began < 3 * 0.5 + 1.2 + 1.0
    assert not guard.started

"""The revocation bound through PgBouncer in transaction mode: uvicorn servers on the session's
database, every one through PgBouncer with `statement_cache_size=0`, and a local cache TTL of
30 s, so only the change log (read every 0.25 s) or Redis can tell them of a revoke in time.

- QUIET: no Redis, no LISTEN (`change_notifications=False`, as the README says).
- DEAF: no Redis, LISTEN left on: through transaction pooling it hears nothing, and says so at
  start-up (it cannot be relied on); the change log, polled anyway, keeps the bound.
- REDIS: Redis (pub/sub and the shared cache), no LISTEN.

The revoker is a `KeyGuard` in this process, through PgBouncer too, with Redis or without.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis

from keyguard import KeyGuard, Settings
from tests.e2e._servers import UvicornServer
from tests.e2e._trials import Trials, run_trials

from ._pgbouncer import PgBouncer

PEPPER = "pgbouncer-pepper-not-a-secret"
POOLER_WARNING = "come through a connection pooler"


@pytest.fixture(scope="module")
def servers(
    pgbouncer: PgBouncer,
    pg_database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, UvicornServer]]:
    logs = tmp_path_factory.mktemp("pgbouncer")
    common = {
        "KEYGUARD_DATABASE_URL": pgbouncer.url(pg_database_url),
        "KEYGUARD_PEPPER": PEPPER,
        "KEYGUARD_STATEMENT_CACHE_SIZE": "0",
        "KEYGUARD_CHANGE_NOTIFICATIONS": "false",
        "KEYGUARD_MAX_STALENESS": "30",
        "KEYGUARD_LOCAL_CACHE_TTL": "30",
    }
    envs = {
        "quiet": common,
        "deaf": {**common, "KEYGUARD_CHANGE_NOTIFICATIONS": "true"},
        "redis": {**common, "KEYGUARD_REDIS_URL": redis_url, "KEYGUARD_REDIS_PREFIX": redis_prefix},
    }
    started: dict[str, UvicornServer] = {}
    try:
        for name, env in envs.items():
            started[name] = UvicornServer(f"pgbouncer-{name}", env, logs)
        for server in started.values():
            server.wait_ready()
        _wait_subscribed(redis_url, redis_prefix + "changes")
        yield started
    finally:
        for server in started.values():
            server.stop()


def _wait_subscribed(redis_url: str, channel: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 15
        while int(client.pubsub_numsub(channel)[0][1]) < 1:
            assert time.monotonic() < deadline, f"nobody listens on {channel}"
            time.sleep(0.02)
    finally:
        client.close()


async def _revoker(settings: Settings) -> AsyncIterator[KeyGuard]:
    async with KeyGuard(settings) as guard:
        yield guard


@pytest.fixture(params=["no-redis", "redis"])
async def revoker(
    request: pytest.FixtureRequest,
    pgbouncer: PgBouncer,
    pg_database_url: str,
    redis_url: str,
    redis_prefix: str,
) -> AsyncIterator[KeyGuard]:
    shared = {"redis_url": redis_url, "redis_prefix": redis_prefix}
    settings = Settings(
        database_url=pgbouncer.url(pg_database_url),
        pepper=PEPPER,
        statement_cache_size=0,
        change_notifications=False,
        **(shared if request.param == "redis" else {}),  # type: ignore[arg-type]
    )
    async with KeyGuard(settings) as guard:
        yield guard


def _nothing() -> None:
    return None


async def test_every_server_refuses_a_revoked_key_within_the_bound(
    servers: dict[str, UvicornServer], revoker: KeyGuard
) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as http:
        trials = Trials(servers, http, revoker, PEPPER)
        await run_trials(trials, 12, trials.in_process_revoke, fault=_nothing, heal=_nothing)
    trials.report(
        f"through PgBouncer, revoker {'with' if revoker.settings.redis_url else 'without'} Redis"
    )


def test_listen_through_pgbouncer_says_it_cannot_be_relied_on(
    servers: dict[str, UvicornServer],
) -> None:
    assert POOLER_WARNING in servers["deaf"].log()
    assert POOLER_WARNING not in servers["quiet"].log() + servers["redis"].log()

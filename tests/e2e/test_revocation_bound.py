"""The revocation bound under partial faults: a revoked key is refused by the process that
revoked it from the moment `revoke` returns, and by every other process within 1 second,
whichever part is broken.

One fleet per module, all on the session's PostgreSQL database, on pepper P2 with P1 as a
previous pepper: uvicorn servers A and B share a throwaway `redis-server`, each through a link
the test can cut; server C has no Redis and no LISTEN (as behind PgBouncer in transaction
mode) and a local cache TTL of 30 s, so the change log, read every 0.25 s, is the only way it
can learn of a change in time. The revoker is a `KeyGuard` in
this process, its Redis through a link of its own, or the `keyguard` CLI with no Redis at all.
Each scenario runs many trials and asserts the bound on every one; `-s` prints the figures.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from keyguard import CreatedKey, KeyGuard, Settings

from ._asgi import PING
from ._faults import FaultyLink
from ._servers import RedisServer, UvicornServer, clean_env
from ._support import auth
from ._trials import Trials, run_trials

P1, P2 = "bound-pepper-one-not-a-secret", "bound-pepper-two-not-a-secret"
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "keyguard")


@dataclass
class Fleet:
    redis: RedisServer
    links: dict[str, FaultyLink]  # "a", "b": each server's way to Redis
    servers: dict[str, UvicornServer]  # "a", "b" with Redis; "c" without, polling alone
    database_url: str
    prefix: str


@pytest.fixture(scope="module")
def fleet(
    pg_database_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    logs = tmp_path_factory.mktemp("bound")
    server = RedisServer(logs)
    server.start()
    links = {name: FaultyLink("127.0.0.1", server.port) for name in ("a", "b")}
    common = {
        "KEYGUARD_DATABASE_URL": pg_database_url,
        "KEYGUARD_PEPPER": P2,
        "KEYGUARD_PREVIOUS_PEPPERS": P1,
        "KEYGUARD_REDIS_PREFIX": redis_prefix,
    }
    envs = {
        **{n: {**common, "KEYGUARD_REDIS_URL": f"redis://{links[n].url_host}/0"} for n in links},
        "c": {
            **common,
            "KEYGUARD_CHANGE_NOTIFICATIONS": "false",
            "KEYGUARD_MAX_STALENESS": "30",
            "KEYGUARD_LOCAL_CACHE_TTL": "30",
        },
    }
    servers: dict[str, UvicornServer] = {}
    try:
        for name, env in envs.items():
            servers[name] = UvicornServer(f"bound-{name}", env, logs)
        for uvicorn in servers.values():
            uvicorn.wait_ready()
        _wait_subscribed(server, redis_prefix + "changes", at_least=2)
        yield Fleet(server, links, servers, pg_database_url, redis_prefix)
    finally:
        for uvicorn in servers.values():
            uvicorn.stop()
        for link in links.values():
            link.close()
        server.kill()


def _wait_subscribed(server: RedisServer, channel: str, at_least: int) -> None:
    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        deadline = time.monotonic() + 15
        while int(client.pubsub_numsub(channel)[0][1]) < at_least:
            assert time.monotonic() < deadline, f"fewer than {at_least} listeners on {channel}"
            time.sleep(0.02)
    finally:
        client.close()


@pytest.fixture
def revoker_link(fleet: Fleet) -> Iterator[FaultyLink]:
    link = FaultyLink("127.0.0.1", fleet.redis.port)
    try:
        yield link
    finally:
        link.close()


@pytest.fixture
async def revoker(fleet: Fleet, revoker_link: FaultyLink) -> AsyncIterator[KeyGuard]:
    settings = Settings(
        database_url=fleet.database_url,
        redis_url=f"redis://{revoker_link.url_host}/0",
        redis_prefix=fleet.prefix,
        pepper=P2,
        previous_peppers=(P1,),
    )
    async with KeyGuard(settings) as guard:
        yield guard


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as http:
        yield http


def _nothing() -> None:
    return None


async def test_revoker_cut_off_from_redis(
    fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard, revoker_link: FaultyLink
) -> None:
    """Finding 1: the revoke cannot tombstone Redis nor publish; A and B hold the key in
    their caches and Redis holds it as valid."""
    trials = Trials(fleet.servers, client, revoker, P2)
    await run_trials(
        trials, 25, trials.in_process_revoke, fault=revoker_link.cut, heal=revoker_link.restore
    )
    trials.report("revoker cut from Redis")


async def test_cli_revoke_with_no_redis_url(
    fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard
) -> None:
    """Finding 2: the CLI, with no Redis to tell, revokes in the store alone. Measured from
    the CLI's exit (its start-up, half a second of Python, would swamp the figure)."""
    trials = Trials(fleet.servers, client, revoker, P2)

    async def cli_revoke(created: CreatedKey) -> float:
        await asyncio.to_thread(_cli_revoke, fleet.database_url, created.record.id)
        return time.perf_counter()

    await run_trials(trials, 6, cli_revoke, fault=_nothing, heal=_nothing)
    trials.report("CLI revoke, no Redis URL")


def _cli_revoke(database_url: str, key_id: str) -> None:
    done = subprocess.run(
        [CONSOLE_SCRIPT, "--database-url", database_url, "keys", "revoke", key_id],
        env=clean_env(KEYGUARD_PEPPER=P2),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


async def test_revoke_racing_the_move_to_a_new_pepper(
    fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard
) -> None:
    """Finding 3: a key minted under P1; its first use on A and B (which moves it to P2) and
    its revoke at the same moment, jittered so that every order comes up."""
    trials = Trials(fleet.servers, client, revoker, P2)
    for _ in range(30):
        created = await trials.mint(P1)

        async def first_use(name: str, value: str = created.value) -> None:
            await asyncio.sleep(random.uniform(0, 0.004))
            url = fleet.servers[name].url + PING
            status = (await client.get(url, headers=auth(value))).status_code
            assert status in (200, 401), status

        async def revoke(created: CreatedKey = created) -> float:
            await asyncio.sleep(random.uniform(0, 0.004))
            since = time.perf_counter()
            await trials.in_process_revoke(created)
            return since

        *_, since = await asyncio.gather(first_use("a"), first_use("b"), revoke())
        await trials.measure(created, since)
    trials.report("revoke racing a move to the new pepper")


async def test_pub_sub_link_cut(fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard) -> None:
    """B loses its link to Redis (notices and cache alike) just before each revoke."""
    trials = Trials(fleet.servers, client, revoker, P2)
    link = fleet.links["b"]
    await run_trials(trials, 25, trials.in_process_revoke, fault=link.cut, heal=link.restore)
    trials.report("B's Redis link cut")


async def test_redis_restarted_empty(
    fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard
) -> None:
    """Redis dies after the key is cached, the revoke finds no Redis, and Redis comes back
    empty: no tombstone, no notice, nothing of the change but the store's log."""
    trials = Trials(fleet.servers, client, revoker, P2)

    async def revoke_across_a_restart(created: CreatedKey) -> None:
        """Redis killed just before the revoke, started again (empty) just after."""
        fleet.redis.kill()
        try:
            await trials.in_process_revoke(created)
        finally:
            fleet.redis.start()

    await run_trials(trials, 12, revoke_across_a_restart, fault=_nothing, heal=_nothing)
    trials.report("Redis restarted empty")


async def test_redis_down_throughout(
    fleet: Fleet, client: httpx.AsyncClient, revoker: KeyGuard
) -> None:
    trials = Trials(fleet.servers, client, revoker, P2)
    fleet.redis.kill()
    try:
        await run_trials(trials, 25, trials.in_process_revoke, fault=_nothing, heal=_nothing)
    finally:
        fleet.redis.start()
    trials.report("Redis down throughout")

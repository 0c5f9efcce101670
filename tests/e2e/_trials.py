"""Revocation trials against a fleet of servers: mint, warm, fault, revoke, then measure how
long each server takes to refuse the key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx

from keyguard import CreatedKey, KeyGuard, KeyHasher, KeyManager, KeyRecord
from keyguard.services import Verdict

from ._asgi import PING
from ._servers import UvicornServer
from ._support import auth, summary

__all__ = ["BOUND", "Revoke", "Trials", "run_trials"]

BOUND = 1.0  # seconds: the promise, p100
GIVE_UP = 3.0  # a trial is lost by then anyway


# Revokes the key; returns the moment its delays count from, or None for "when I was called".
Revoke = Callable[[CreatedKey], Awaitable[float | None]]


class Trials:
    """Runs trials against the servers and keeps each server's delay, revoke -> first 401."""

    def __init__(
        self,
        servers: Mapping[str, UvicornServer],
        http: httpx.AsyncClient,
        revoker: KeyGuard,
        pepper: str,
    ) -> None:
        self.servers, self.http, self.revoker, self.pepper = servers, http, revoker, pepper
        self.delays: dict[str, list[float]] = {name: [] for name in servers}

    async def mint(self, pepper: str | None = None) -> CreatedKey:
        """A key minted under `pepper` (by default the fleet's own)."""
        manager = KeyManager(self.revoker.store, hasher=KeyHasher(pepper or self.pepper))
        return await manager.create(
            account="bound", name="trial", environment="test", access="secret"
        )

    async def warm(self, created: CreatedKey) -> None:
        for name, server in self.servers.items():
            response = await self.http.get(server.url + PING, headers=auth(created.value))
            assert response.status_code == 200, (name, response.status_code, response.text)

    async def in_process_revoke(self, created: CreatedKey) -> None:
        """Revoke here, and check this process refuses the key as soon as it returns."""
        await self.revoker.manager.revoke(created.record.id)
        # The revoking process itself: refused from the moment revoke returned, with no await.
        local = self.revoker.verifier.check_cached(created.value)
        assert not isinstance(local, KeyRecord), "the revoker accepted its own revoked key"
        assert await self.revoker.verifier.verify(created.value) is Verdict.INVALID

    async def measure(self, created: CreatedKey, since: float) -> None:
        names = list(self.servers)
        found = await asyncio.gather(*(self._refused_after(n, created.value, since) for n in names))
        for name, delay in zip(names, found, strict=True):
            self.delays[name].append(delay)

    async def _refused_after(self, name: str, value: str, since: float) -> float:
        """Seconds from `since` to this server's first 401 (every answer before it a 200)."""
        url = self.servers[name].url + PING
        while True:
            response = await self.http.get(url, headers=auth(value))
            elapsed = time.perf_counter() - since
            if response.status_code == 401:
                return elapsed
            assert response.status_code == 200, (name, response.status_code, response.text)
            if elapsed > GIVE_UP:
                return elapsed
            await asyncio.sleep(0.002)

    def report(self, scenario: str) -> None:
        every: list[float] = []
        for name, delays in self.delays.items():
            every.extend(delays)
            print(f"\n{scenario}, server {name.upper()}: {summary(delays)}")
        late = sorted(d for d in every if d >= BOUND)
        assert not late, f"{scenario}: {len(late)} refusals took {BOUND} s or more: {late[-5:]}"


async def run_trials(
    trials: Trials,
    count: int,
    revoke: Revoke,
    *,
    fault: Callable[[], None],
    heal: Callable[[], None],
    warm: bool = True,
) -> None:
    for _ in range(count):
        created = await trials.mint()
        if warm:
            await trials.warm(created)
        fault()
        try:
            called = time.perf_counter()  # by default the revoke's own time counts too
            since = await revoke(created)
            await trials.measure(created, called if since is None else since)
        finally:
            heal()

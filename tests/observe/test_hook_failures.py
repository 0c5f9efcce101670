"""An observer that raises, or that swallows what it is handed, changes nothing keyguard answers:
a hook's exception is logged once per hook and ignored; a `call` hook can neither hide a failed
call nor change a call's result. Real guard (SQLite), real middleware."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from keyguard import Decision, KeyGuard, Observer, Settings
from keyguard.services import _hook_failures
from keyguard.web import APIKeyMiddleware

from ._recording import RecordingObserver
from .conftest import QUIET, bearer, mint, noting_app

HOOKS = ("verifying", "answered", "hit", "decided", "call", "change_applied", "flushed")


class Broken(Observer):
    """Every hook raises (a `call` on the way in, or on the way out)."""

    tracks_requests = True

    def __init__(self, *, call_fails_on_exit: bool = False) -> None:
        self.call_fails_on_exit = call_fails_on_exit

    def verifying(self, request_id: str) -> None:
        raise RuntimeError("verifying")

    def answered(self, tier: str) -> None:
        raise RuntimeError("answered")

    def decided(self, decision: Decision) -> None:
        raise RuntimeError("decided")

    def hit(self, decision: Decision) -> None:
        raise RuntimeError("hit")

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        if not self.call_fails_on_exit:
            raise RuntimeError("call")
        yield
        raise RuntimeError("call exit")

    def change_applied(self, lag: float | None, path: str) -> None:
        raise RuntimeError("change_applied")

    def flushed(self, kind: str, size: int, lag: float) -> None:
        raise RuntimeError("flushed")


class Swallowing(Observer):
    """A `call` hook that suppresses whatever the call raised."""

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        with contextlib.suppress(Exception):
            yield


@pytest.fixture(autouse=True)
def fresh_hook_log() -> None:
    _hook_failures._told.clear()  # each test sees each hook's one line


async def serving(
    tmp_path: Path, observer: Observer
) -> AsyncIterator[tuple[KeyGuard, httpx.AsyncClient]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", **QUIET)
    guard = KeyGuard(settings, observer=observer)
    app = APIKeyMiddleware(noting_app(RecordingObserver()), guard=guard)
    transport = httpx.ASGITransport(app=app)
    async with guard, httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield guard, client


@pytest.mark.parametrize(
    "on_exit", [False, True], ids=["call-fails-entering", "call-fails-leaving"]
)
async def test_hooks_that_raise_change_no_answer_and_are_logged_once_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, on_exit: bool
) -> None:
    async for guard, client in serving(tmp_path, Broken(call_fails_on_exit=on_exit)):
        key, key_id = await mint(guard)
        for _ in range(3):  # first use (the store), then the local cache
            assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        assert (await client.get("/v1/me")).status_code == 401
        wrong = key[:-1] + ("y" if key.endswith("x") else "x")  # never the key itself
        assert (await client.get("/v1/me", headers=bearer(wrong))).status_code == 401
        await guard.manager.revoke(key_id)
        # Refused from the moment revoke returns, though the change's hook raised.
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 401
        await guard.last_used.flush()  # the writer's hook raises: the flush does not
        assert guard.last_used.pending == 0
    told = [r.getMessage() for r in caplog.records if r.name == _hook_failures.logger.name]
    assert sorted(m.split("'s ")[1].split(" hook")[0] for m in told) == sorted(HOOKS)


async def test_a_call_hook_cannot_hide_a_failed_lookup(tmp_path: Path) -> None:
    """A store that cannot answer is a 503, never a 401 from a lookup read as "no such key"."""
    async for guard, client in serving(tmp_path, Swallowing()):
        key, _ = await mint(guard)
        await guard.store.close()
        try:
            response = await client.get("/v1/me", headers=bearer(key))
            assert response.status_code == 503
        finally:
            await guard.store.open()
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200

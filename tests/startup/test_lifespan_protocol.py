"""The lifespan around apps that bend the protocol, driven message by message: the guard is
stopped once the server shuts down whatever the app did, and nothing waits forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from keyguard import KeyGuard, Settings
from keyguard.web._lifespan import run_lifespan

Message = dict[str, Any]


class Server:
    """The server's side: it sends start-up, later shut-down, and records the answers."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.sent: list[str] = []
        self.messages: list[MutableMapping[str, Any]] = []
        self.started_or_failed = asyncio.Event()  # the start-up's answer went out
        self.inbox.put_nowait({"type": "lifespan.startup"})

    async def receive(self) -> Message:
        return await self.inbox.get()

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message["type"])
        self.messages.append(message)
        if message["type"].startswith("lifespan.startup."):
            self.started_or_failed.set()

    def shut_down(self) -> None:
        self.inbox.put_nowait({"type": "lifespan.shutdown"})


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    made = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db"))
    yield made
    await made.stop()


async def _run(app: Any, guard: KeyGuard, server: Server) -> None:
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    task = asyncio.create_task(run_lifespan(app, guard, scope, server.receive, server.send))
    # Until the start-up is answered either way: a fixed pause failed on a loaded machine,
    # where opening and migrating the SQLite file took longer than it.
    await asyncio.wait_for(server.started_or_failed.wait(), timeout=5)
    assert guard.started or "lifespan.startup.failed" in server.sent
    server.shut_down()
    await asyncio.wait_for(task, timeout=5)


async def test_an_app_that_returns_after_starting_still_has_the_guard_stopped(
    guard: KeyGuard,
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})

    server = Server()
    await _run(app, guard, server)
    assert server.sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not guard.started


async def test_an_app_that_reads_the_shut_down_but_never_answers_does_not_hang_it(
    guard: KeyGuard,
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # the shut-down, read and not answered

    server = Server()
    await _run(app, guard, server)
    assert server.sent[-1] == "lifespan.shutdown.complete"
    assert not guard.started


async def test_a_raw_app_whose_start_up_raises_fails_it_in_one_line(guard: KeyGuard) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("no config file\nat /etc/app.toml")

    server = Server()
    await _run(app, guard, server)
    assert server.sent == ["lifespan.startup.failed"]
    message = server.messages[0]["message"]
    assert "\n" not in message
    assert message == "the app's start-up failed: RuntimeError: no config file at /etc/app.toml"
    assert not guard.started


async def test_a_start_that_fails_late_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db"))

    def refuse() -> None:
        raise RuntimeError("the listener could not start")

    monkeypatch.setattr(guard, "_listen", refuse)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await guard.start()
    assert not guard.started
    running = {t.get_name() for t in asyncio.all_tasks() if not t.done()}
    assert not {"keyguard-change-feed", "keyguard-last-used"} & running, running


async def test_a_start_on_a_requests_path_does_not_wait_for_the_store(
    caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/nowhere"
    guard = KeyGuard(Settings(database_url=url, start_wait=30, store_timeout=0.5))
    with pytest.raises(Exception, match="connection refused"):
        await asyncio.wait_for(guard.start(wait=False), timeout=10)
    assert "the store is not ready" not in caplog.text  # one try, no waiting

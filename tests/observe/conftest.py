"""Guards with a `RecordingObserver`, apps that note when they ran, and the check, after every
test here, that no hook was ever given anything holding a key value."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard import KeyGuard, Settings
from keyguard.demo.storefront import STOREFRONT_PUBLISHABLE_ROUTES
from keyguard.web import APIKeyMiddleware

from ..conftest import KEY_SHAPE
from ._recording import RecordingObserver

# Every key value a test here sent or minted: none may appear in any hook's arguments.
SENT: list[str] = []
# No background calls between requests: polls and flushes an hour apart.
QUIET: dict[str, Any] = {
    "change_poll_interval": 3600.0,
    "max_staleness": 7200.0,
    "last_used_interval": 3600.0,
}


def sent(value: str) -> str:
    SENT.append(value)
    return value


async def mint(guard: KeyGuard, access: str = "secret", **options: Any) -> tuple[str, str]:
    """A new test key: (value, id)."""
    created = await guard.manager.create(
        account="acme", name="k", environment="test", access=access, **options
    )
    return sent(created.value), created.record.id


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def noting_app(recorder: RecordingObserver) -> ASGIApp:
    """Answers 200 (or accepts a websocket), after noting "app" and the request id it sees."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        recorder.mark("app", scope.get("state", {}).get("request_id"))
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def hooks_holding_keys(recorders: list[RecordingObserver]) -> list[str]:
    """The names of the hooks any of whose arguments, as repr shows them, hold something
    shaped like a key, a key value a test sent, or the end of one."""
    found = []
    for recorder in recorders:
        for hook in recorder.history:
            text = " ".join(repr(arg) for arg in hook.args)
            if KEY_SHAPE.search(text) or any(v in text or v[-20:] in text for v in SENT):
                found.append(hook.name)
    return found


@pytest.fixture(autouse=True)
def no_key_in_hooks() -> Iterator[None]:
    RecordingObserver.made.clear()
    SENT.clear()
    yield
    assert hooks_holding_keys(RecordingObserver.made) == [], "a key value reached a hook"


@pytest.fixture
def recorder() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
async def guard(tmp_path: Path, recorder: RecordingObserver) -> AsyncIterator[KeyGuard]:
    """Started, on a SQLite file, no Redis, reporting to `recorder`; nothing runs in the
    background between requests (polls and flushes an hour apart)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", **QUIET)
    guard = KeyGuard(settings, observer=recorder)
    await guard.start()
    yield guard
    await guard.stop()


Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_for(recorder: RecordingObserver) -> Callable[..., httpx.AsyncClient]:
    def make(guard: KeyGuard, **options: Any) -> httpx.AsyncClient:
        options.setdefault("public_paths", ["/health"])
        options.setdefault("publishable_routes", STOREFRONT_PUBLISHABLE_ROUTES)
        # The app notes where it ran in the guard's own recorder (this test's, if it has none).
        own = guard.observer if isinstance(guard.observer, RecordingObserver) else recorder
        app = APIKeyMiddleware(noting_app(own), guard=guard, **options)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return make


@pytest.fixture
async def client(guard: KeyGuard, client_for: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(guard) as c:
        yield c

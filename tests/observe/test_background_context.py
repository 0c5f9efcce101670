"""A guard started by its first request (no lifespan ran) does not keep that request's context
in its background work: the change feed's polls, the writers and the notices listener run in
a context of their own, so a tracer never files them under that request's span."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard import KeyGuard, Observer, Settings
from keyguard.web import APIKeyMiddleware

from ._recording import RecordingObserver
from .conftest import noting_app

REQUEST = contextvars.ContextVar("request", default="none")


class Contexts(Observer):
    """Which request each store call was made in, by the context variable it sees."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        self.calls.append((operation, REQUEST.get()))
        yield


def in_request(app: ASGIApp) -> ASGIApp:
    """What a tracing middleware does around the app: a context value for the request."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        REQUEST.set("first request")
        await app(scope, receive, send)

    return wrapped


async def test_background_work_started_by_a_request_runs_outside_its_context(
    tmp_path: Path,
) -> None:
    seen = Contexts()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", change_poll_interval=0.05
    )
    guard = KeyGuard(settings, observer=seen)
    app = in_request(APIKeyMiddleware(noting_app(RecordingObserver()), guard=guard))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/v1/me")).status_code == 401  # started by this request
        assert guard.started
        polls_then = sum(op == "read_changes" for op, _ in seen.calls)
        for _ in range(200):  # bounded: 10 s at most; a poll every 0.05 s
            if sum(op == "read_changes" for op, _ in seen.calls) >= polls_then + 2:
                break
            await asyncio.sleep(0.05)
        later_polls = [ctx for op, ctx in seen.calls if op == "read_changes"][polls_then:]
        assert len(later_polls) >= 2, "the change feed did not poll"
        assert set(later_polls) == {"none"}, "a poll ran in the first request's context"
    finally:
        await guard.stop()

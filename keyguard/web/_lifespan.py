"""The guard's start and stop around an app's own ASGI lifespan.

The guard starts first. If it cannot, the server hears `lifespan.startup.failed` with one line
saying why and what to do, and the app's lifespan never begins, so nothing of it is half-run;
uvicorn then exits non-zero under `--lifespan auto` and `on` alike (an exception here would
read as "lifespan unsupported" to `auto`, which then serves without the app's start-up). Once
the guard is up, the app's start-up runs as it would without keyguard; the guard stops after
the app's shut-down (flushing last-used times). An app that does not speak lifespan (a bare
callable) gets one all the same, so the guard still starts and stops with the server.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import KeyguardError

__all__ = ["run_lifespan", "start_for_request", "startup_failure"]

logger = logging.getLogger(__name__)
_STOPS_GUARD = {"lifespan.startup.failed", "lifespan.shutdown.complete", "lifespan.shutdown.failed"}


def startup_failure(exc: BaseException) -> str:
    """One line: why keyguard could not start. keyguard's own errors already say what to do
    (`run keyguard migrate`) and mask any password in a URL."""
    if isinstance(exc, KeyguardError):
        return _one_line(f"keyguard cannot start: {exc}")
    return _one_line(f"keyguard cannot start: {type(exc).__name__}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def start_for_request(guard: KeyGuard) -> bool:
    """Start the guard where no lifespan did, for a request that is waiting (so without
    `start_wait`); False when it cannot, and the request gets a 503."""
    try:
        await guard.start(wait=False)
    except KeyguardError as exc:
        logger.error("keyguard cannot start: %s", exc)
        return False
    return True


async def run_lifespan(
    app: ASGIApp, guard: KeyGuard, scope: Scope, receive: Receive, send: Send
) -> None:
    startup = await receive()
    if startup["type"] != "lifespan.startup":  # not a start: nothing of ours to do
        return await app(scope, _replaying(startup, receive), send)
    try:
        await guard.start()
    except Exception as exc:
        logger.error("%s", startup_failure(exc))
        await send({"type": "lifespan.startup.failed", "message": startup_failure(exc)})
        return None
    lifespan = _AppLifespan(guard, startup, receive, send)
    try:
        await app(scope, lifespan.receive, lifespan.send)
    except Exception as exc:
        if lifespan.started_by_app:
            await guard.stop()
            raise
        if lifespan.read_startup:  # its own start-up failed, and it did not say so
            logger.exception("the app's start-up failed")
            await guard.stop()
            message = _one_line(f"the app's start-up failed: {type(exc).__name__}: {exc}")
            await send({"type": "lifespan.startup.failed", "message": message})
            return None
    if not lifespan.started_by_app:
        await lifespan.serve_alone()
    elif not lifespan.finished:  # it started, then returned without waiting for the end
        await lifespan.finish_alone()
    return None


class _AppLifespan:
    """The app's side of the lifespan, watched: the start-up message it has not read yet, and
    whether it answered the start-up (else it does not speak lifespan)."""

    def __init__(self, guard: KeyGuard, startup: Message, receive: Receive, send: Send) -> None:
        self.guard = guard
        self._pending: Message | None = startup
        self._receive = receive
        self._send = send
        self.started_by_app = False
        self.finished = False  # the app said its lifespan ended (or never began)
        self.shutdown_asked = False  # the app read the server's shut-down message

    @property
    def read_startup(self) -> bool:
        return self._pending is None

    async def receive(self) -> Message:
        if self._pending is not None:
            message, self._pending = self._pending, None
            return message
        message = await self._receive()
        self.shutdown_asked = self.shutdown_asked or message["type"] == "lifespan.shutdown"
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind.startswith("lifespan.startup."):
            self.started_by_app = True
        if kind in _STOPS_GUARD:
            self.finished = True
            await self.guard.stop()
        await self._send(message)

    async def serve_alone(self) -> None:
        """The app ignored the lifespan, or raised on it before answering: keyguard keeps it."""
        await self._send({"type": "lifespan.startup.complete"})
        await self.finish_alone()

    async def finish_alone(self) -> None:
        """Until the server's shut-down, then stop the guard (flushing last-used times)."""
        while not self.shutdown_asked:
            self.shutdown_asked = (await self._receive())["type"] == "lifespan.shutdown"
        await self.guard.stop()
        await self._send({"type": "lifespan.shutdown.complete"})


def _replaying(first: Message, receive: Receive) -> Receive:
    pending: list[Message] = [first]

    async def receive_again() -> Message:
        return pending.pop() if pending else await receive()

    return receive_again

"""A TCP link the test controls, between keyguard and a real server: cut it, hang it, slow it,
reset its connections, then restore it.

It runs its own event loop in a thread of its own, so it keeps forwarding (or stalling) whatever
the test's event loop is doing, and a module's uvicorn processes can share one across tests.
Everything listens on 127.0.0.1, unless a test names another address of its own (a network
namespace's veth, tests/hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any

HOST = "127.0.0.1"
_CHUNK = 65536


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class FaultyLink:
    """`listen_host`:`port` (127.0.0.1 by default) forwards to the upstream until told
    otherwise:

    - `cut()`: the listener closes (new connections are refused) and open ones are aborted,
      as a dead server or a pulled cable would do;
    - `hang()`: connections stay open (new ones are accepted) but no byte moves either way,
      as a server that stopped answering would do;
    - `delay(seconds)`: every chunk waits that long before it is forwarded;
    - `reset()`: open connections are aborted, new ones work;
    - `restore()`: forwarding as normal again.
    """

    def __init__(self, upstream_host: str, upstream_port: int, *, listen_host: str = HOST) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = free_port(listen_host)
        self.url_host = f"{listen_host}:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()  # set: bytes move; clear: hung
        self._delay = 0.0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._run(self._flowing_set())
        self.restore()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=15)

    async def _flowing_set(self) -> None:
        self._flowing.set()

    # --- what a test calls -------------------------------------------------------------

    def restore(self) -> None:
        self._run(self._restore())

    def cut(self) -> None:
        self._run(self._cut())

    def hang(self) -> None:
        self._run(self._hang())

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def reset(self) -> None:
        self._run(self._abort_all())

    def close(self) -> None:
        self._run(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._loop.close()

    # --- on the link's own loop ----------------------------------------------------------

    async def _restore(self) -> None:
        self._delay = 0.0
        self._flowing.set()
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, self.listen_host, self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
        await self._abort_all()

    async def _shut(self) -> None:
        """`_cut`, then the same for connections the listener accepted as it closed: their
        handlers start only on the loop's next turns, and a loop closed before then would
        leave their sockets open (a ResourceWarning, in whichever test the GC runs)."""
        await self._cut()
        for _ in range(5):
            await asyncio.sleep(0)
        await self._abort_all()

    async def _hang(self) -> None:
        self._flowing.clear()

    async def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            await self._flowing.wait()  # a hung link accepts, then says nothing
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            for w in (writer, up_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                await self._flowing.wait()
                if self._delay:
                    await asyncio.sleep(self._delay)
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

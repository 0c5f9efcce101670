"""Real server processes for the end-to-end tests, each with a clean way to stop: a throwaway
`redis-server` of a test's own, and uvicorn serving `tests/e2e/app.py`. Everything listens on
127.0.0.1, unless a test runs uvicorn in a network namespace of its own (tests/hosts)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx
import redis
import redis.asyncio as aioredis

from ._asgi import PING
from ._faults import HOST, free_port

__all__ = ["ROOT", "RedisServer", "UvicornServer", "clean_env"]

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any KEYGUARD_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    env.update(extra)
    return env


# --- redis-server ---------------------------------------------------------------------------


class RedisServer:
    """A throwaway `redis-server` on its own port: no persistence, so a restart forgets all."""

    def __init__(self, log_dir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        self._log = (self.log_dir / f"redis-{self.port}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server on port {self.port} did not start")
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no goodbye to clients, like a crash or a pulled cable."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)


# --- uvicorn --------------------------------------------------------------------------------


class UvicornServer:
    """`python -m uvicorn tests.e2e.app:app` (or another `app`) with the given settings.

    By default on a free port of 127.0.0.1; `host`, `port` and a command `wrapper` that execs
    what follows it (`ip netns exec <ns>`) run it elsewhere, e.g. in a network namespace."""

    def __init__(
        self,
        name: str,
        settings: Mapping[str, str],
        log_dir: Path,
        app: str = "tests.e2e.app:app",
        *,
        host: str = HOST,
        port: int | None = None,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.port = free_port() if port is None else port
        self.url = f"http://{host}:{self.port}"
        self.log_path = log_dir / f"uvicorn-{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                *wrapper,
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--host",
                host,
                "--port",
                str(self.port),
                "--lifespan",
                "on",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=clean_env(**settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until it answers a request without a key with 401 (so the middleware is in place)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"uvicorn {self.name} exited:\n{self.log()}")
                try:
                    if client.get(self.url + PING).status_code == 401:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"uvicorn {self.name} did not answer:\n{self.log()}")
                time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful stop, running the lifespan shutdown), then SIGKILL."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            self._log.close()

"""A `python -m keyguard ...` server as a user runs it, for tests that drive it from outside:
started on 127.0.0.1 in a directory of the test's own, its one-time sign-in link (and any keys
it prints) read from its banner, all of its output kept, stopped with Ctrl-C.

Every wait is bounded: a process that does not come up, or does not stop, fails the test with
what it printed, and never hangs it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

__all__ = ["KEY_VALUE", "SIGN_IN_LINK", "KeyguardProcess", "clean_env", "free_port", "run_cli"]

HOST = "127.0.0.1"
KEY_VALUE = re.compile(r"[sp]k_test_[0-9A-Za-z]{38}")
SIGN_IN_LINK = re.compile(r"http://127\.0\.0\.1:\d+/\S*sign-in\?token=[A-Za-z0-9_-]+")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any KEYGUARD_* variable (the machine's settings stay
    out), unbuffered output, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(cwd: Path, *args: str, timeout: float = 60.0) -> str:
    """One `python -m keyguard ARGS` command in `cwd`; its stdout. Fails with its stderr."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "keyguard", *args],
            cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout,
            check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"keyguard {args[:2]} did not finish in {timeout} s") from exc
    assert done.returncode == 0, f"keyguard {args[:2]} failed: {done.stderr[-2000:]}"
    return done.stdout


class KeyguardProcess:
    """`python -m keyguard ARGS --port PORT`, serving on 127.0.0.1 from `cwd`."""

    def __init__(
        self, args: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.args = list(args)
        self.cwd = cwd
        self.env = clean_env(**dict(env or {}))
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.sign_in_link = ""
        self.keys: list[str] = []  # the values its banner printed, in order
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    # --- output ----------------------------------------------------------------------------

    def output(self) -> str:
        """Everything it has printed so far, stdout and stderr interleaved."""
        with self._lock:
            return "".join(self._lines)

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                self._lines.append(line)

    # --- start and stop --------------------------------------------------------------------

    def start(self) -> KeyguardProcess:
        assert self._process is None, "started already"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "keyguard", *self.args, "--port", str(self.port)],
            cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
        self._reader = threading.Thread(
            target=self._read, args=(self._process.stdout,), name="keyguard-output", daemon=True
        )
        self._reader.start()
        try:
            self._wait_for_banner(time.monotonic() + START_TIMEOUT)
            self._wait_until_answering(time.monotonic() + START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def _fail(self, why: str) -> None:
        tail = self.output()[-3000:]
        raise AssertionError(f"keyguard {' '.join(self.args)}: {why}. Its output:\n{tail}")

    def _wait_for_banner(self, deadline: float) -> None:
        assert self._process is not None
        while time.monotonic() < deadline:
            found = SIGN_IN_LINK.search(self.output())
            if found:
                self.sign_in_link = found.group(0)
                self.keys = list(dict.fromkeys(KEY_VALUE.findall(self.output()[: found.start()])))
                return
            if self._process.poll() is not None:
                self._fail(f"it exited ({self._process.returncode}) before printing a link")
            time.sleep(0.05)
        self._fail("no sign-in link within the time allowed")

    def _wait_until_answering(self, deadline: float) -> None:
        assert self._process is not None
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/admin", timeout=1.0)  # any answer will do
                return
            except httpx.TransportError:
                if self._process.poll() is not None:
                    self._fail(f"it exited ({self._process.returncode}) before answering")
                time.sleep(0.1)
        self._fail("it never answered HTTP")

    def stop(self) -> int | None:
        """Ctrl-C, then a kill if it has not exited in time; its exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def __enter__(self) -> KeyguardProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

"""A PostgreSQL cluster of a test's own: `initdb` into a fresh temp dir, run as user `postgres`
on a free port of 127.0.0.1. A test may crash it (immediate shutdown) and start it again; the
machine's shared server is never touched."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ._faults import HOST, free_port

__all__ = ["PostgresServer"]


class PostgresServer:
    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        assert found, "PostgreSQL's server binaries are not installed (/usr/lib/postgresql)"
        self.bin = found[-1].parent
        # Not under pytest's tmp dir: the cluster's owner must be able to reach it.
        self.base = Path(tempfile.mkdtemp(prefix="keyguard-pg-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self.dir = self.base / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@{HOST}:{self.port}/postgres"
        self.process: subprocess.Popen[bytes] | None = None
        initdb = [str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            [*initdb, "--no-sync"], check=True, capture_output=True, timeout=120, **_as_postgres()
        )

    def start(self) -> None:
        assert self.process is None
        deadline = time.monotonic() + 30
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), *self._options()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            **_as_postgres(),
        )
        while not self._ready():
            assert time.monotonic() < deadline, "the throwaway PostgreSQL did not start"
            assert self.process.poll() is None, "the throwaway PostgreSQL exited"
            time.sleep(0.05)

    def _options(self) -> list[str]:
        settings = {"listen_addresses": HOST, "fsync": "off", "full_page_writes": "off"}
        flags = ["-D", str(self.dir), "-p", str(self.port), "-k", str(self.base)]
        return flags + [arg for k, v in settings.items() for arg in ("-c", f"{k}={v}")]

    def _ready(self) -> bool:
        ready = [str(self.bin / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)]
        return subprocess.run(ready, capture_output=True, check=False).returncode == 0

    def kill(self) -> None:
        """A crash: SIGQUIT (immediate shutdown) makes every backend drop its connection at
        once, with no checkpoint; the next start recovers from the WAL."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=15)
            self.process = None

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def _as_postgres() -> dict[str, Any]:
    """Run as `postgres` when we are root (PostgreSQL refuses to run as root)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}

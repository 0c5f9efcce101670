"""A PgBouncer of a test's own in transaction pooling mode: its ini in a fresh temp dir, run as
user `postgres` (PgBouncer refuses to run as root) on a free port of 127.0.0.1, in front of the
machine's PostgreSQL. Any database name passes through to the same name upstream."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.e2e._faults import HOST, free_port
from tests.e2e._postgres_server import _as_postgres

__all__ = ["PgBouncer", "pgbouncer_binary"]

POOL_SIZE = 4  # server connections per database: small, so that every client shares them


def pgbouncer_binary() -> str:
    """The binary scripts/pgbouncer.sh found or installed; a failing line when there is none."""
    found = os.environ.get("KEYGUARD_TEST_PGBOUNCER") or shutil.which("pgbouncer")
    found = found or "/usr/sbin/pgbouncer"
    assert os.access(found, os.X_OK), (
        f"no PgBouncer at {found}: run the tests through scripts/test, which installs it,"
        " or apt-get install -y pgbouncer (or set KEYGUARD_TEST_PGBOUNCER)"
    )
    return found


class PgBouncer:
    def __init__(self, upstream_url: str, binary: str) -> None:
        upstream = urlsplit(upstream_url)
        # Not under pytest's tmp dir: the `postgres` user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="keyguard-pgbouncer-"))
        self.port = free_port()
        self.log = self.dir / "pgbouncer.log"
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={upstream.hostname} port={upstream.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {POOL_SIZE}\n"
            f"max_client_conn = 500\nlogfile = {self.log}\nadmin_users = postgres\n"
        )
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.dir, ini, self.dir / "userlist.txt"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.process = subprocess.Popen(
            [binary, "-q", str(ini)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **_as_postgres(),
        )
        self._wait_accepting()

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, f"PgBouncer exited: {self._log_tail()}"
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                return
            assert time.monotonic() < deadline, f"PgBouncer did not start: {self._log_tail()}"
            time.sleep(0.05)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(self.log.read_text().splitlines()[-5:])
        return "(no log)"

    def url(self, database_url: str) -> str:
        """`database_url` (a database of the upstream server) reached through this PgBouncer."""
        parts = urlsplit(database_url)
        return urlunsplit(parts._replace(netloc=f"postgres@{HOST}:{self.port}"))

    async def reconnect_servers(self) -> None:
        """RECONNECT on the admin console: every server connection is replaced by a new one
        once released (as `server_lifetime` does in production), so nothing prepared on them
        survives."""
        admin = await asyncpg.connect(
            f"postgresql://postgres@{HOST}:{self.port}/pgbouncer", statement_cache_size=0
        )
        try:
            await admin.execute("RECONNECT")
        finally:
            await admin.close()

    def stop(self) -> None:
        """SIGTERM: PgBouncer's immediate shutdown, every connection dropped."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

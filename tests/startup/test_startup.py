"""Start-up under uvicorn, run as a process for each case: keyguard that cannot start fails the
lifespan with one line and uvicorn exits non-zero (under `auto` as under `on`), never running
the host app's start-up; keyguard that starts leaves the host app's lifespan whole; a bare app
still gets the guard started; an opt-in wait covers a database that comes up later."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, Settings

from .._keyguard_process import HOST, clean_env, free_port
from ..conftest import migrate_database

ROOT = Path(__file__).resolve().parents[2]
EXIT_WAIT = 30.0


class Server:
    """`uvicorn tests.startup.startup_app:app` with one app kind, settings and lifespan mode."""

    def __init__(self, tmp: Path, kind: str, lifespan: str, **settings: str) -> None:
        self.marker = tmp / "host-app-lifespan"
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = clean_env(STARTUP_APP=kind, STARTUP_MARKER=str(self.marker), **settings)
        command = [sys.executable, "-m", "uvicorn", "tests.startup.startup_app:app"]
        options = ["--host", HOST, "--port", str(self.port), "--lifespan", lifespan]
        self.process = subprocess.Popen(
            [*command, *options], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def exit_status(self) -> int:
        try:
            status = self.process.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"uvicorn did not exit:\n{self.output}") from None
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return status

    def wait_answering(self) -> None:
        deadline = time.monotonic() + EXIT_WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"uvicorn exited:\n{self.output}"
            try:
                httpx.get(self.url + "/state", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"uvicorn did not answer:\n{self.output}")

    def stop(self) -> bool:
        """SIGTERM; whether uvicorn shut down cleanly (it re-raises the signal once done)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.exit_status() in (0, -signal.SIGTERM) and "Traceback" not in self.output


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
        server.exit_status()


@pytest.mark.parametrize("lifespan", ["auto", "on"])
def test_a_store_not_migrated_fails_the_start_in_one_line_and_uvicorn_exits(
    empty_pg_database_url: str, tmp_path: Path, servers: list[Server], lifespan: str
) -> None:
    server = Server(tmp_path, "host", lifespan, KEYGUARD_DATABASE_URL=empty_pg_database_url)
    servers.append(server)
    assert server.exit_status() != 0
    why = "keyguard cannot start: the database schema is at version 0, keyguard needs"
    said = [line for line in server.lines if why in line]
    assert said and all("run `keyguard migrate`" in line for line in said), server.output
    assert "Traceback" not in server.output
    assert "unsupported" not in server.output
    assert not server.marker.exists(), "the host app's start-up ran while keyguard could not"


@pytest.mark.parametrize("lifespan", ["auto", "on"])
def test_an_unreachable_store_fails_the_start_without_a_password_in_sight(
    tmp_path: Path, servers: list[Server], lifespan: str
) -> None:
    url = f"postgresql://postgres:hunter2@{HOST}:{free_port()}/nowhere"
    server = Server(tmp_path, "host", lifespan, KEYGUARD_DATABASE_URL=url)
    servers.append(server)
    assert server.exit_status() != 0
    assert "keyguard cannot start: cannot connect to PostgreSQL" in server.output
    assert "hunter2" not in server.output
    assert not server.marker.exists()


@pytest.mark.parametrize("lifespan", ["auto", "on"])
def test_a_guard_that_starts_leaves_the_host_apps_lifespan_whole(
    tmp_path: Path, servers: list[Server], lifespan: str
) -> None:
    server = Server(tmp_path, "host", lifespan, KEYGUARD_DATABASE_URL=f"sqlite:///{tmp_path}/k.db")
    servers.append(server)
    server.wait_answering()
    assert httpx.get(server.url + "/state").json() == {"ready": True}
    assert server.marker.read_text() == "started"
    assert server.stop()
    assert server.marker.read_text() == "stopped"


def test_a_bare_app_still_gets_the_guard_started_and_stopped(
    tmp_path: Path, servers: list[Server]
) -> None:
    database_url = f"sqlite:///{tmp_path}/k.db"
    key = asyncio.run(_mint(Settings(database_url=database_url)))
    server = Server(tmp_path, "bare", "auto", KEYGUARD_DATABASE_URL=database_url)
    servers.append(server)
    server.wait_answering()
    answer = httpx.get(server.url + "/v1/me", headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    assert "unsupported" not in server.output  # keyguard answered the lifespan for it
    assert server.stop()


@pytest.mark.parametrize("lifespan", ["auto", "on"])
def test_the_host_apps_own_failed_start_up_stops_the_server(
    tmp_path: Path, servers: list[Server], lifespan: str
) -> None:
    database_url = f"sqlite:///{tmp_path}/k.db"
    server = Server(tmp_path, "failing", lifespan, KEYGUARD_DATABASE_URL=database_url)
    servers.append(server)
    assert server.exit_status() != 0
    assert "the host app's own start-up failed" in server.output


def test_a_database_that_comes_up_later_is_waited_for_when_asked(
    empty_pg_database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = Server(
        tmp_path, "host", "auto",
        KEYGUARD_DATABASE_URL=empty_pg_database_url, KEYGUARD_START_WAIT="30",
    )  # fmt: skip
    servers.append(server)
    deadline = time.monotonic() + EXIT_WAIT
    while "the store is not ready (attempt 2" not in server.output:
        assert time.monotonic() < deadline, server.output
        assert server.process.poll() is None, server.output
        time.sleep(0.05)
    asyncio.run(migrate_database(empty_pg_database_url))  # the release step, running late
    server.wait_answering()
    assert httpx.get(server.url + "/state").json() == {"ready": True}
    assert server.stop()


async def _mint(settings: Settings) -> str:
    async with KeyGuard(settings) as guard:
        created = await guard.manager.create(
            account="startup", name="k", environment="test", access="secret"
        )
    return created.value

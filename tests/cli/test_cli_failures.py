"""What the `keyguard` console script says, as a real process, when its surroundings fail: a bad
setting, a reader that leaves early, an unreachable database, an unreachable Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._keyguard_process import free_port

from ._support import PEPPER, seed

KEYGUARD = str(Path(sys.executable).parent / "keyguard")
CREATE = ["keys", "create", "--name", "n", "--env", "test", "--access", "secret", "--json"]


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    environ.update(KEYGUARD_PEPPER=PEPPER, **env)
    return subprocess.run(
        [KEYGUARD, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60,
        check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _one_line(done: subprocess.CompletedProcess[str], status: int) -> str:
    assert (done.returncode, done.stdout) == (status, ""), (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- bad settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LOCAL_CACHE_TTL", "abc", "KEYGUARD_LOCAL_CACHE_TTL must be a number of seconds"),
        ("STORE_TIMEOUT", "nan", "KEYGUARD_STORE_TIMEOUT must be a number of seconds"),
        ("LOCAL_CACHE_SIZE", "1.5", "KEYGUARD_LOCAL_CACHE_SIZE must be a whole number"),
        ("LOCAL_CACHE_SIZE", "0", "KEYGUARD_LOCAL_CACHE_SIZE must be from 1 to 10000000"),
        ("CHANGE_NOTIFICATIONS", "maybe", "KEYGUARD_CHANGE_NOTIFICATIONS must be true or false"),
        ("ENVIRONMENTS", ", ,", "KEYGUARD_ENVIRONMENTS must name at least one environment"),
        ("ENVIRONMENTS", "test,Live", "KEYGUARD_ENVIRONMENTS: environment names are lowercase"),
        ("LOCAL_CACHE_TTL", "5", "KEYGUARD_LOCAL_CACHE_TTL must be between 0 and max_staleness"),
        (
            "REDIS_URL",
            "http://cache",
            "the Redis URL 'http://cache' is not a URL redis-py can read",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_status_2(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    done = _run("keys", "list", cwd=tmp_path, **{f"KEYGUARD_{variable}": value})
    line = _one_line(done, 2)
    assert line.startswith(f"keyguard: error: {message}"), line
    assert not (tmp_path / "keyguard.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@db/keys", "unsupported database URL 'mysql://root:***@db/keys'"),
        ("postgresql://u:hun/ter2@db/keys", "the PostgreSQL URL does not parse"),
        ("postgresql://u:hunter2@127.0.0.1:1/k?sslmode=no", "`sslmode` parameter must be one of"),
    ],
)
@pytest.mark.parametrize("command", [["keys", "list"], ["migrate"]])
def test_a_bad_database_url_is_one_line_and_status_2(
    tmp_path: Path, url: str, message: str, command: list[str]
) -> None:
    line = _one_line(_run("--database-url", url, *command, cwd=tmp_path), 2)
    assert message in line and "hunter2" not in line and "ter2" not in line


# --- a reader that leaves -------------------------------------------------------------------


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    seed(url, "piped", 300)  # its JSON (~150 kB) cannot fit in the pipe: `head` leaves first
    with subprocess.Popen(
        [KEYGUARD, "--database-url", url, "keys", "list", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as lister:  # fmt: skip
        assert lister.stdout is not None and lister.stderr is not None
        head = subprocess.run(
            ["head", "-1"], stdin=lister.stdout, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        lister.stdout.close()
        err = lister.stderr.read()
        assert (lister.wait(timeout=60), err) == (141, "")
    assert head.stdout == "[\n"


def test_stdout_closed_before_the_first_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    seed(url, "piped", 1)
    with subprocess.Popen(
        [KEYGUARD, "--database-url", url, "keys", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as lister:  # fmt: skip
        assert lister.stdout is not None and lister.stderr is not None
        lister.stdout.close()
        err = lister.stderr.read()
        assert (lister.wait(timeout=60), err) == (141, "")


# --- an unreachable database ----------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def _unusable(where: str, why: str) -> str:
    return f"keyguard: error: cannot {where}: {why}"


def test_postgres_failures_are_said_in_words(tmp_path: Path, silent_port: int) -> None:
    pg = "postgresql://postgres:hunter2@"
    cases = [
        (f"{pg}127.0.0.1:{free_port()}/x", "connect to", "connection refused"),
        (f"{pg}no-such-host.invalid/x", "connect to", "host not found"),
        (f"{pg}127.0.0.1:{silent_port}/x", "connect to", "no answer in time"),
        (
            f"{pg}127.0.0.1:5432/keyguard_no_such_db",
            "use",
            'database "keyguard_no_such_db" does not exist',
        ),
        (
            "postgresql://keyguard_no_such_role@127.0.0.1:5432/postgres",
            "use",
            'authentication failed: role "keyguard_no_such_role" does not exist',
        ),
    ]
    for url, verb, why in cases:
        done = _run("--database-url", url, "keys", "list", cwd=tmp_path,
                    KEYGUARD_STORE_TIMEOUT="0.5")  # fmt: skip
        masked = url.replace(":hunter2@", ":***@")
        assert _one_line(done, 1) == _unusable(f"{verb} PostgreSQL at {masked}", why)


# --- an unreachable Redis -------------------------------------------------------------------


def _untold(redis: str, why: str) -> str:
    return (
        "keyguard: warning: the change is saved, but running servers were not told at once"
        f" (Redis at {redis} failed: {why}); they see it within 1 s, when they next read the"
        " store's change log"
    )


def test_changes_made_while_redis_is_unreachable_are_saved_and_said(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path}/k.db"]
    port = free_port()
    cut_off = [*db, "--redis-url", f"redis://:hunter2@127.0.0.1:{port}/0"]
    untold = _untold(f"redis://:***@127.0.0.1:{port}/0", "connection refused")

    created = _run(*cut_off, *CREATE, cwd=tmp_path)  # nothing cached can know a new key
    assert created.returncode == 0 and "warning" not in created.stderr, created.stderr
    old = json.loads(created.stdout)["id"]

    def change(*args: str) -> subprocess.CompletedProcess[str]:
        done = _run(*cut_off, "keys", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[-1] == untold
        assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
        return done

    change("rename", old, "renamed", "--json")
    new = json.loads(change("roll", old, "--json").stdout)["id"]
    change("revoke", new)
    change("delete", new)
    listed = json.loads(_run(*db, "keys", "list", "--json", cwd=tmp_path).stdout)
    assert [(k["id"], k["name"]) for k in listed] == [(old, "renamed")]


def test_a_redis_that_refuses_the_password_is_said_in_words(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path}/k.db"]
    redis = "redis://keyguard-nobody:hunter2@127.0.0.1:6379/0"
    key = json.loads(_run(*db, *CREATE, cwd=tmp_path).stdout)["id"]
    done = _run(*db, "--redis-url", redis, "keys", "revoke", key, cwd=tmp_path)
    why = "authentication failed (invalid username-password pair or user is disabled)"
    assert done.returncode == 0
    assert done.stderr.splitlines() == [_untold(redis.replace("hunter2", "***"), why)]


def test_no_warning_when_redis_heard(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path}/k.db", "--redis-url", redis_url]
    key = json.loads(_run(*db, *CREATE, cwd=tmp_path).stdout)["id"]
    done = _run(*db, "keys", "revoke", key, cwd=tmp_path, KEYGUARD_REDIS_PREFIX=redis_prefix)
    assert (done.returncode, done.stderr) == (0, "")

"""The installed `keyguard` console script and `python -m keyguard`, as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._support import PEPPER, parse

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "keyguard")
ENTRY_POINTS = [[CONSOLE_SCRIPT], [sys.executable, "-m", "keyguard"]]


def _run(entry: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    env["KEYGUARD_PEPPER"] = PEPPER
    return subprocess.run(
        [*entry, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=["console-script", "python-m"])
def test_exit_statuses(entry: list[str], tmp_path: Path) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path}/k.db"]
    created = _run(entry, *url, "keys", "create", "--name", "n", "--env", "live", "--access",
                   "secret", cwd=tmp_path)  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert parse(created.stdout.splitlines()[0]).prefix == "sk_live_"
    assert len(created.stdout.splitlines()) == 1

    unknown = "key_01JD3Z0000000000000000000X"  # well formed, in no store
    missing = _run(entry, *url, "keys", "show", unknown, cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == f"keyguard: error: no API key with id {unknown!r}\n"

    usage = _run(entry, *url, "keys", "list", "--status", "lost", cwd=tmp_path)
    assert usage.returncode == 2 and "usage: keyguard" in usage.stderr
    assert "Traceback" not in usage.stderr


def test_unreachable_postgres_is_one_line_unless_verbose(tmp_path: Path) -> None:
    url = ["--database-url", "postgresql://postgres@127.0.0.1:1/x"]
    quiet = _run([CONSOLE_SCRIPT], *url, "keys", "list", cwd=tmp_path)
    assert quiet.returncode == 1 and quiet.stdout == ""
    assert quiet.stderr.splitlines() == [
        "keyguard: error: cannot connect to PostgreSQL at"
        " postgresql://postgres@127.0.0.1:1/x: connection refused"
    ]
    verbose = _run([CONSOLE_SCRIPT], "--verbose", *url, "keys", "list", cwd=tmp_path)
    assert verbose.returncode == 1
    lines = verbose.stderr.splitlines()
    assert len(lines) == 4 and all("connect attempt" in line for line in lines[:3])
    assert lines[3] == quiet.stderr.strip()

"""Processes started together on a new SQLite file all start: SQLite answers some lock
conflicts at once (a switch to WAL while another connection makes it, two first migrations),
without its busy handler, and opening tries again while another process holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard.adapters import _sqlite

OPEN_ONE = """
import asyncio, sys
from keyguard.adapters import SQLiteKeyStore

async def main() -> None:
    store = SQLiteKeyStore(sys.argv[1])
    await store.open()
    await store.close()

asyncio.run(main())
"""


def test_processes_opening_a_new_file_together_all_start(tmp_path: Path) -> None:
    for trial in range(8):  # before the retry, one trial in ten or so lost a process
        path = tmp_path / f"keys-{trial}.db"
        starting = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_ONE, str(path)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=60)[1] for p in starting]
        assert [p.returncode for p in starting] == [0] * 4, errors
    opened = sqlite3.connect(path)
    assert opened.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opened.close()


def test_a_lock_is_waited_out_and_anything_else_raised_at_once() -> None:
    answers: list[object] = [
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("database is locked"),
        "migrated",
    ]

    def step() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert _sqlite._while_locked(step, 5.0) == "migrated"
    answers[:] = [sqlite3.OperationalError("no such table: x"), "never"]
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _sqlite._while_locked(step, 5.0)
    assert answers == ["never"]  # not tried again


def test_a_lock_held_past_the_patience_is_the_error_it_was() -> None:
    tries = 0

    def step() -> None:
        nonlocal tries
        tries += 1
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _sqlite._while_locked(step, 0.0)
    assert tries == 1


async def test_a_store_opened_while_another_process_migrates_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN EXCLUSIVE")  # as a first migration holds it
    store = _sqlite.SQLiteKeyStore(str(path), timeout=0.05)  # busy handler: 50 ms only
    opening = asyncio.ensure_future(store.open())
    await asyncio.sleep(0.3)  # well past the busy timeout: still waiting, not failed
    assert not opening.done()
    holder.execute("COMMIT")
    holder.close()
    await asyncio.wait_for(opening, 10)
    assert await store.migrate()  # it applied the migrations once the lock was free
    await store.close()

"""Fixtures for the CLI tests: a clean environment, and each store in turn."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import SERVER_URL, _admin, _with_database, migrated_database
from ._support import PEPPER, Cli


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings leak in from the machine; the default database lands in tmp_path."""
    for name in ("KEYGUARD_DATABASE_URL", "KEYGUARD_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEYGUARD_PEPPER", PEPPER)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/k.db"


@pytest.fixture(scope="session")
def cli_pg_template() -> Iterator[str]:
    """A migrated database to copy: each CLI test gets a store of its own, since every command
    counts the whole store's keys against its pepper (other tests mint under other peppers)."""
    for name, _ in migrated_database("keyguard_cli_template"):
        yield name


@pytest.fixture
def cli_pg_database_url(cli_pg_template: str) -> Iterator[str]:
    name = f"keyguard_cli_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{cli_pg_template}"'))
    yield _with_database(SERVER_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("cli_pg_database_url")  # type: ignore[no-any-return]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], database_url: str) -> Cli:
    return Cli(capsys, database_url)


@pytest.fixture
def account() -> str:
    """An account of this test's own: the Postgres database is shared by the whole run."""
    return f"acct-{secrets.token_hex(6)}"

"""Fixtures for the CLI tests: a clean environment, and each store in turn."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

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


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("pg_database_url")  # type: ignore[no-any-return]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], database_url: str) -> Cli:
    return Cli(capsys, database_url)


@pytest.fixture
def account() -> str:
    """An account of this test's own: the Postgres database is shared by the whole run."""
    return f"acct-{secrets.token_hex(6)}"

"""keyguard.testing: the in-memory guard, minting in one line from async and sync code, and
the pytest plugin's fixtures."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from keyguard import Access, KeyGuard, KeyRecord, SQLiteKeyStore
from keyguard.testing import TEST_ACCOUNT, memory_guard, mint, mint_sync


def test_the_memory_guard_ignores_the_environments_database_and_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("KEYGUARD_REDIS_URL", "redis://127.0.0.1:1/0")
    guard = memory_guard(environments=("test", "live", "eu"))
    assert isinstance(guard.store, SQLiteKeyStore)
    assert guard.store.path == ":memory:"
    assert guard.shared_cache is None
    assert guard.key_format.environments == ("test", "live", "eu")


async def test_mint_starts_the_guard_and_returns_a_working_value() -> None:
    guard = memory_guard()
    try:
        key = await mint(guard)
        assert key.startswith("sk_test_")
        record = await guard.verifier.verify(key)
        assert isinstance(record, KeyRecord)
        assert record.account == TEST_ACCOUNT
        assert record.name == "test secret key"
        live = await mint(guard, access=Access.PUBLISHABLE, environment="live", account="acme")
        assert live.startswith("pk_live_")
    finally:
        await guard.stop()


async def test_each_memory_guard_starts_empty() -> None:
    async with memory_guard() as first:
        key = await mint(first, name="CI", owner="ann")
        record = await first.verifier.verify(key)
        assert isinstance(record, KeyRecord)
        assert (record.name, record.owner) == ("CI", "ann")
    async with memory_guard() as second:
        assert not isinstance(await second.verifier.verify(key), KeyRecord)


def test_mint_sync_needs_the_clients_event_loop() -> None:
    guard = memory_guard()
    client = TestClient(Starlette())
    with pytest.raises(RuntimeError, match="with TestClient"):
        mint_sync(client, guard)


def test_the_fixture_is_a_fresh_guard_not_started(keyguard_guard: KeyGuard) -> None:
    assert not keyguard_guard.started
    assert keyguard_guard.settings.database_url == "sqlite:///:memory:"


@pytest.fixture
def keyguard_settings() -> dict[str, Any]:
    return {"environments": ("test", "staging")}


def test_keyguard_settings_overrides_the_fixtures_settings(keyguard_guard: KeyGuard) -> None:
    assert keyguard_guard.key_format.environments == ("test", "staging")


def test_importing_keyguard_testing_leaves_pytest_out() -> None:
    code = "import sys, keyguard.testing; sys.exit('pytest' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

"""Helpers for your own app's tests: a guard that needs no server, and keys in one line.

    guard = memory_guard()                     # SQLite in memory, no Redis, no KEYGUARD_* read
    key = await mint(guard)                    # an sk_test_... value, from async code
    with TestClient(create_app(guard)) as client:
        key = mint_sync(client, guard)         # the same from sync code (starlette's TestClient)
        client.get("/orders", headers={"Authorization": f"Bearer {key}"})

pytest fixtures come with `pytest_plugins = ["keyguard.testing.pytest_plugin"]` in your
conftest.py; this module itself never imports pytest. Public: pinned by
tests/test_public_api.py.
"""

from ._helpers import MEMORY_DATABASE_URL, TEST_ACCOUNT, memory_guard, mint, mint_sync

__all__ = ["MEMORY_DATABASE_URL", "TEST_ACCOUNT", "memory_guard", "mint", "mint_sync"]

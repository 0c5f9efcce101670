"""What `keyguard.testing` exports: see its docstring."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from keyguard._guard import KeyGuard
from keyguard._settings import Settings
from keyguard.core import Access

if TYPE_CHECKING:  # starlette's TestClient needs httpx2, which keyguard does not depend on
    from starlette.testclient import TestClient

__all__ = ["MEMORY_DATABASE_URL", "TEST_ACCOUNT", "memory_guard", "mint", "mint_sync"]

# The SQLite store holds one connection for as long as it is open, so an in-memory database
# lives from the guard's start to its stop: a test's keys never outlive the test.
MEMORY_DATABASE_URL = "sqlite:///:memory:"
TEST_ACCOUNT = "test-account"


def memory_guard(**settings: Any) -> KeyGuard:
    """A guard on an in-memory SQLite store with no Redis, not started: the app's lifespan (or
    `async with guard`) starts it. `settings` are `Settings` fields (`environments=...`,
    `pepper=...`); the environment's KEYGUARD_* variables are ignored, so a test never reaches a
    real database by accident."""
    return KeyGuard(Settings(**{"database_url": MEMORY_DATABASE_URL, **settings}))


async def mint(
    guard: KeyGuard,
    *,
    access: Access | str = Access.SECRET,
    environment: str = "test",
    account: str = TEST_ACCOUNT,
    name: str | None = None,
    **options: Any,
) -> str:
    """A new key's value (`sk_test_...` by default). Starts the guard if it is not started.
    `options` go to `KeyManager.create`: `owner`, `expires_at`, `metadata`, `permissions`,
    `allowed_origins`, `allowed_networks`."""
    await guard.start()
    created = await guard.manager.create(
        account=account,
        name=name or f"test {access} key",
        environment=environment,
        access=access,
        **options,
    )
    return created.value


def mint_sync(client: TestClient, guard: KeyGuard, **options: Any) -> str:
    """`mint` from sync code, in the event loop of the client's app, where its lifespan started
    the guard. `options` are `mint`'s."""
    portal = client.portal
    if portal is None:  # starlette makes the loop only inside `with TestClient(app) as client`
        raise RuntimeError("mint_sync needs a running client: `with TestClient(app) as client:`")
    return portal.call(functools.partial(mint, guard, **options))

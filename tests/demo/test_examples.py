"""The examples users copy: each imports with settings from the environment, as under uvicorn,
and answers as its docstring says."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from keyguard import KeyGuard

from ._support import bearer, error_of, lifespan, mint

EXAMPLES = Path(__file__).parents[2] / "examples"
LoadExample = Callable[[str], ModuleType]


@pytest.fixture
def load_example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LoadExample:
    """Import `examples/<name>.py` afresh, with KEYGUARD_* pointing at a new SQLite file."""
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/examples.db")
    monkeypatch.setenv("KEYGUARD_PEPPER", "example-pepper")
    monkeypatch.delenv("KEYGUARD_REDIS_URL", raising=False)

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"examples.{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)  # pydantic resolves models here
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
async def guards_to_stop() -> AsyncIterator[list[KeyGuard]]:
    guards: list[KeyGuard] = []
    yield guards
    for guard in guards:
        await guard.stop()


async def _client(module: ModuleType, guards: list[KeyGuard]) -> tuple[httpx.AsyncClient, KeyGuard]:
    guard = _guard_of(module)
    assert guard.settings.database_url.endswith("examples.db")  # taken from the environment
    await guard.start()
    guards.append(guard)
    transport = httpx.ASGITransport(app=module.app)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), guard


def _guard_of(module: ModuleType) -> KeyGuard:
    guard = getattr(module, "guard", None) or module.app.guard
    assert isinstance(guard, KeyGuard)
    return guard


async def test_starlette_example(load_example: LoadExample, guards_to_stop: list[KeyGuard]) -> None:
    client, guard = await _client(load_example("starlette_app"), guards_to_stop)
    sk_test, sk_live = await mint(guard, "secret", "test"), await mint(guard, "secret", "live")
    pk_test = await mint(guard, "publishable", "test")
    async with client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        error_of(await client.get("/orders"), 401, "INVALID_API_KEY")
        error_of(await client.get("/orders", headers=bearer(pk_test)), 403, "FORBIDDEN")
        placed = await client.post("/orders", headers=bearer(sk_test), json={"item": "mug"})
        assert (placed.status_code, placed.json()) == (
            201,
            {"item": "mug", "placedBy": "secret test"},
        )
        test_orders = (await client.get("/orders", headers=bearer(sk_test))).json()
        assert test_orders == {"orders": [{"item": "mug", "placedBy": "secret test"}]}
        assert (await client.get("/orders", headers=bearer(sk_live))).json() == {"orders": []}
        for bad in (b"", b"[]", b'{"thing": 1}'):
            refused = await client.post("/orders", headers=bearer(sk_test), content=bad)
            assert refused.status_code == 400
        whoami = (await client.get("/whoami", headers=bearer(sk_live))).json()
        assert whoami == {"key": "secret live", "scopes": ["authenticated", "secret", "env:live"]}


async def test_fastapi_example(load_example: LoadExample, guards_to_stop: list[KeyGuard]) -> None:
    module = load_example("fastapi_app")
    client, guard = await _client(module, guards_to_stop)
    sk_test, sk_live = await mint(guard, "secret", "test"), await mint(guard, "secret", "live")
    pk_test = await mint(guard, "publishable", "test")
    async with client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        listed = await client.get("/products", headers=bearer(pk_test))
        assert listed.json() == [{"name": "Test Mug", "price": 1.0}]
        new = {"name": "Mug", "price": 3.5}
        created = await client.post("/products", headers=bearer(sk_test), json=new)
        assert (created.status_code, created.json()) == (201, new)
        error_of(
            await client.post("/products", headers=bearer(pk_test), json=new), 403, "FORBIDDEN"
        )
        error_of(await client.post("/payouts", headers=bearer(sk_test)), 403, "FORBIDDEN")
        payout = await client.post("/payouts", headers=bearer(sk_live))
        assert (payout.status_code, payout.json()["account"]) == (202, "acme")
        schema = (await client.get("/openapi.json")).json()  # public, for /docs
    assert schema["components"]["securitySchemes"]["APIKey"]["scheme"] == "bearer"
    assert schema["paths"]["/products"]["post"]["security"] == [{"APIKey": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


async def test_bare_asgi_example(load_example: LoadExample, guards_to_stop: list[KeyGuard]) -> None:
    client, guard = await _client(load_example("bare_asgi"), guards_to_stop)
    sk_live = await mint(guard, "secret", "live", name="my laptop")
    async with client:
        hello = await client.get("/", headers=bearer(sk_live))
        assert (hello.status_code, hello.text) == (
            200,
            "Hello, my laptop: you are seeing live data.\n",
        )
        error_of(await client.get("/"), 401, "INVALID_API_KEY")


@pytest.mark.parametrize("name", ["starlette_app", "fastapi_app", "bare_asgi"])
async def test_each_example_starts_and_stops_its_guard_with_the_server(
    load_example: LoadExample, name: str
) -> None:
    module = load_example(name)
    guard = _guard_of(module)
    async with lifespan(module.app):  # as uvicorn runs it
        assert guard.started
        key = await mint(guard, "secret", "test")
        transport = httpx.ASGITransport(app=module.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            path = "/" if name == "bare_asgi" else "/health"
            assert (await client.get(path, headers=bearer(key))).status_code == 200
    assert not guard.started

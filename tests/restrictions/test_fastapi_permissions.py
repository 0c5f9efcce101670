"""FastAPI's `require(permissions=[...])`: the key must hold them (an unrestricted key holds
all), a refusal names what is missing with RFC 6750's challenge, and the OpenAPI operation lists
them as the scopes of its security requirement."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI

from keyguard import KeyGuard, KeyRecord
from keyguard.fastapi import install_error_handlers, require

from .conftest import Client, bearer, mint

# Module level: the annotations below are strings, resolved in this module's namespace.
needs_write = require(permissions=["orders:write"])
needs_both = require(access="secret", permissions=["refunds:write", "orders:write"])


def orders_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/orders")
    async def create(key: Annotated[KeyRecord, Depends(needs_write)]) -> dict[str, str]:
        return {"id": key.id}

    @app.post("/v1/orders/{order}/refund")
    async def refund(order: str, key: Annotated[KeyRecord, Depends(needs_both)]) -> dict[str, str]:
        return {"id": key.id}

    return app


async def test_require_permissions_admits_holders_and_names_what_others_lack(
    guard: KeyGuard, client_for: Client
) -> None:
    writer, _ = await mint(guard, permissions=["orders:write"])
    everything, _ = await mint(guard, permissions=["orders:*", "refunds:*"])
    unrestricted, _ = await mint(guard)
    async with client_for(orders_app()) as client:
        for key in (writer, everything, unrestricted):
            assert (await client.post("/v1/orders", headers=bearer(key))).status_code == 200
        for key in (everything, unrestricted):
            assert (
                await client.post("/v1/orders/1/refund", headers=bearer(key))
            ).status_code == 200
        refused = await client.post("/v1/orders/1/refund", headers=bearer(writer))
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "FORBIDDEN",
        "message": "This API key lacks the permission refunds:write, which this request needs.",
    }
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="refunds:write"'
    )


def test_the_openapi_operation_lists_the_permissions_as_scopes() -> None:
    paths = orders_app().openapi()["paths"]
    assert paths["/v1/orders"]["post"]["security"] == [{"APIKey": ["orders:write"]}]
    refund = paths["/v1/orders/{order}/refund"]["post"]
    assert refund["security"] == [{"APIKey": ["orders:write", "refunds:write"]}]


@pytest.mark.parametrize("bad", [["Orders:write"], ["orders"], ["env:live"]])
def test_require_refuses_a_malformed_permission_when_the_app_is_built(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="permissions"):
        require(permissions=bad)


def test_require_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="list"):
        require(permissions="orders:write")

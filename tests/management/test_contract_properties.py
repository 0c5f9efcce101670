"""The API against its own OpenAPI document: schemathesis generates valid and invalid requests
for every operation; no answer may be a 5xx, an undocumented status, or break its schema.

Bounded and repeatable: a fixed number of examples per operation, derandomized, no example
database. The guard and every request run in one event loop on a portal thread (asyncpg
pools are bound to the loop that made them); hypothesis drives it from the test's thread.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware, management_openapi, management_routes

from ..conftest import TEST_PEPPER

EXAMPLES = 30
BASE_URL = "http://testserver"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SCHEMA = schemathesis.openapi.from_dict(management_openapi())
SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)


Served = tuple[BlockingPortal, httpx.AsyncClient, str]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'keys.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    guard = KeyGuard(Settings(database_url=url, pepper=TEST_PEPPER))
    app = APIKeyMiddleware(Starlette(routes=management_routes(guard)), guard=guard)
    create = functools.partial(
        guard.manager.create,
        account=f"contract-{secrets.token_hex(6)}",
        name="schemathesis",
        environment="live",
        access="secret",
    )
    transport = httpx.ASGITransport(app=app)
    with start_blocking_portal() as portal:
        portal.call(guard.start)
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        try:
            yield portal, client, portal.call(create).value
        finally:
            portal.call(client.aclose)
            portal.call(guard.stop)


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_own_contract(case: Any, served: Served) -> None:
    portal, client, key = served
    sent = case.as_transport_kwargs(base_url=BASE_URL, headers=_auth(case, key))
    response = portal.call(functools.partial(client.request, **_for_httpx(sent)))
    case.validate_response(response, checks=CHECKS, headers=sent["headers"])


def _auth(case: Any, key: str) -> dict[str, str] | None:
    """The real key in place of the generated one, unless schemathesis broke the headers on
    purpose: then they go as generated, and the 401 they get is what it expects."""
    headers = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if headers is not None and headers.mode is GenerationMode.NEGATIVE:
        return None
    return {"Authorization": f"Bearer {key}"}


def _for_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`requests`-style arguments, as schemathesis makes them, for httpx (the TestClient)."""
    out: dict[str, Any] = {k: kwargs[k] for k in ("method", "url", "headers", "params")}
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        out["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        out["data"] = kwargs["data"]
    return out


async def test_the_document_is_the_one_served(tmp_path: Any) -> None:
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper=TEST_PEPPER))
    transport = httpx.ASGITransport(app=Starlette(routes=management_routes(guard)))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        served = (await client.get("/v1/account/openapi.json")).json()
    assert served == management_openapi()

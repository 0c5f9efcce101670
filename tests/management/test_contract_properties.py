"""The API against its own OpenAPI document: schemathesis generates valid and invalid requests
for every operation and runs every check it has. What the schema allows the server must accept
(no 400 for a request the document calls valid), what the server refuses the schema must
forbid, and no answer may be a 5xx, an undocumented status, or break its schema.

The API runs in uvicorn, a separate process on 127.0.0.1, on each store: some checks send
requests of their own (without the key, with an unsupported method), and they need a real
server to send them to. Bounded and repeatable: a fixed number of examples per operation,
derandomized, no example database.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as ALL_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.core.parameters import ParameterLocation

from keyguard import KeyGuard, Settings
from keyguard.core import ValidationError, validate_rate_limits
from keyguard.web import management_openapi
from keyguard.web.management.restriction_types import NETWORK_FORMAT
from keyguard.web.management.usage_types import RATE_LIMIT_TEXT_PATTERN

from ..conftest import TEST_PEPPER
from ..e2e._servers import UvicornServer

EXAMPLES = 30


def _networks(version: Literal[4, 6], bits: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda address, prefix: str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)),
        st.ip_addresses(v=version),
        st.integers(0, bits),
    )


# A CIDR range with no host bits set: what no pattern can say, the format names, and a tool
# that knows it (as schemathesis does once told) generates.
schemathesis.openapi.format(NETWORK_FORMAT, _networks(4, 32) | _networks(6, 128))
load_all_checks()  # the OpenAPI checks register themselves on import
CHECKS = ALL_CHECKS.get_all()  # every one, positive_data_acceptance and ignored_auth too
SCHEMA = schemathesis.openapi.from_dict(management_openapi())
SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)

_RATE_LIMIT_TEXT = re.compile(RATE_LIMIT_TEXT_PATTERN)


def _stated_by_the_schema(body: Any) -> bool:
    """False for a body breaking one of the two rules of `rateLimits` no schema can state,
    said in the document in words: names are distinct (`1/m` and `1/60s` are both named
    `1/m`), and a count and window are countable exactly. Such a list of items the schema
    allows is not sent, as the network format above generates no host bits."""
    limits = body.get("rateLimits") if isinstance(body, dict) else None
    if not isinstance(limits, list) or not all(map(_schema_valid_limit, limits)):
        return True
    try:
        validate_rate_limits(limits)
    except ValidationError:
        return False
    return True


def _schema_valid_limit(item: Any) -> bool:
    text = item.get("limit") if isinstance(item, dict) else item
    return isinstance(text, str) and _RATE_LIMIT_TEXT.fullmatch(text) is not None


PATH = "/v1/account/api-keys"
NEW_KEY = {"name": "real", "environment": "test", "access": "publishable"}
Served = tuple[str, str]  # the server's URL, a secret live key of a fresh account


def test_every_check_schemathesis_has_runs() -> None:
    names = {check.__name__ for check in CHECKS}
    assert {"positive_data_acceptance", "negative_data_rejection", "ignored_auth"} <= names


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    logs = tmp_path_factory.mktemp("contract")
    if request.param == "sqlite":
        url = f"sqlite:///{logs / 'keys.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    key = asyncio.run(_mint(Settings(database_url=url, pepper=TEST_PEPPER)))
    env = {"KEYGUARD_DATABASE_URL": url, "KEYGUARD_PEPPER": TEST_PEPPER}
    server = UvicornServer(
        f"contract-{request.param}", env, logs, app="tests.management.contract_app:app"
    )
    try:
        server.wait_ready()
        yield server.url, key
    finally:
        server.stop()


async def _mint(settings: Settings) -> str:
    async with KeyGuard(settings) as guard:
        created = await guard.manager.create(
            account=f"contract-{secrets.token_hex(6)}",
            name="schemathesis",
            environment="live",
            access="secret",
        )
    return created.value


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_own_contract(case: Any, served: Served) -> None:
    base_url, key = served
    if not _stated_by_the_schema(case.body):  # every phase, the coverage phase's edges too
        return
    headers = _auth(case, key)
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
        if headers is not None and _real_id_wanted(case):
            # A key of its own to rename, roll, revoke, delete: not only 404s for made-up ids.
            case.path_parameters["id"] = http.post(PATH, json=NEW_KEY).json()["data"]["id"]
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if headers is not None and case.method != "GET" and response.status_code < 300:
            _everything_stored_reads_back(http)


def _real_id_wanted(case: Any) -> bool:
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    return path is not None and path.mode is GenerationMode.POSITIVE


def _everything_stored_reads_back(http: httpx.Client) -> None:
    """What a request stored (a made-up expiry, a name of any script) must never break a
    later read: every list and order, and the audit log, still answer 200."""
    for query in ("", "?status=expired", "?status=active", "?sort=name", "?sort=-lastUsedAt"):
        answer = http.get(f"{PATH}{query}&limit=100" if query else f"{PATH}?limit=100")
        assert answer.status_code == 200, answer.text
        for item in answer.json()["data"][:3]:
            assert http.get(f"{PATH}/{item['id']}").status_code == 200
    assert http.get("/v1/account/audit-log?limit=100").status_code == 200


def _auth(case: Any, key: str) -> dict[str, str] | None:
    """The real key in place of the generated one, unless schemathesis broke the headers on
    purpose: then they go as generated, and the 401 they get is what it expects."""
    headers = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if headers is not None and headers.mode is GenerationMode.NEGATIVE:
        return None
    return {"Authorization": f"Bearer {key}"}

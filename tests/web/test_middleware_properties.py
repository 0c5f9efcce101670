"""Arbitrary header bytes and header lists through the middleware: only documented statuses,
never an exception, never a 500, never a 200 without a real key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Message

from keyguard import KeyGuard, Settings
from keyguard.demo.storefront import STOREFRONT_PUBLISHABLE_ROUTES
from keyguard.web import APIKeyMiddleware

from .conftest import storefront

DOCUMENTED = {200, 401, 403, 429, 503}
header_names = st.sampled_from(
    [b"authorization", b"x-api-key", b"x-request-id", b"cookie", b"host"]
)
header_values = st.one_of(
    st.binary(max_size=600),
    st.sampled_from([b"Bearer ", b"bearer", b"Basic x", b"Bearer  sk_test_", b"sk_live_"]).flatmap(
        lambda prefix: st.binary(max_size=60).map(lambda tail: prefix + tail)
    ),
)
header_lists = st.lists(st.tuples(header_names, header_values), max_size=6)


@pytest.fixture(scope="module")
def loop_and_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, APIKeyMiddleware, str]]:
    loop = asyncio.new_event_loop()
    path: Path = tmp_path_factory.mktemp("props") / "k.db"
    guard = KeyGuard(Settings(database_url=f"sqlite:///{path}", pepper="p"))
    loop.run_until_complete(guard.start())
    created = loop.run_until_complete(
        guard.manager.create(account="a", name="n", environment="test", access="publishable")
    )
    app = APIKeyMiddleware(
        storefront(),
        guard=guard,
        accept_x_api_key=True,
        publishable_routes=STOREFRONT_PUBLISHABLE_ROUTES,
    )
    yield loop, app, created.value
    loop.run_until_complete(guard.stop())
    loop.close()


async def _status(
    app: APIKeyMiddleware, headers: list[tuple[bytes, bytes]], method: str, client: str
) -> int:
    path = "/v1/storefront/products"
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("test", 80),
        "client": (client, 1),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(headers=header_lists, method=st.sampled_from(["GET", "POST", "HEAD", "DELETE"]))
def test_arbitrary_headers_only_ever_get_documented_statuses(
    loop_and_app: tuple[asyncio.AbstractEventLoop, APIKeyMiddleware, str],
    headers: list[tuple[bytes, bytes]],
    method: str,
) -> None:
    loop, app, _ = loop_and_app
    status = loop.run_until_complete(_status(app, headers, method, "10.0.0.1"))
    assert status in DOCUMENTED
    assert status not in (200, 403)  # no real key in these headers: never past authentication


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(noise=header_lists, position=st.integers(0, 6))
def test_a_real_key_among_noise_is_judged_only_by_the_documented_rules(
    loop_and_app: tuple[asyncio.AbstractEventLoop, APIKeyMiddleware, str],
    noise: list[tuple[bytes, bytes]],
    position: int,
) -> None:
    loop, app, key = loop_and_app
    headers = [h for h in noise if h[0] not in (b"authorization", b"x-api-key")]
    headers.insert(min(position, len(headers)), (b"authorization", b"Bearer " + key.encode()))
    # Another client than the guesser above, whose failures rightly get it 429 on cold keys.
    status = loop.run_until_complete(_status(app, headers, "GET", "10.0.0.2"))
    assert status == 200

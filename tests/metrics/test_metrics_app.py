"""`metrics_app`: the exposition behind a bearer token (401 in keyguard's envelope without
it), public only when said so; and no key, key id or key part in any scrape."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.applications import Starlette
from starlette.routing import Route

from keyguard import Access, KeyFormat, KeyGuard
from keyguard.metrics import PrometheusMetrics, metrics_app
from keyguard.testing import mint
from keyguard.web import APIKeyMiddleware

from ._support import bearer, ping

TOKEN = secrets.token_urlsafe(32)


def scraper(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://scrape")


def check_refused(response: httpx.Response, challenge: str) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert body["error"]["code"] == "INVALID_API_KEY"
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    assert "keyguard_" not in response.text


async def test_the_token_is_required(metrics: PrometheusMetrics) -> None:
    metrics.answered("store")
    async with scraper(metrics_app(metrics, token=TOKEN)) as client:
        check_refused(await client.get("/"), 'Bearer realm="metrics"')
        wrong = 'Bearer realm="metrics", error="invalid_token"'
        typo = TOKEN[:-1] + ("y" if TOKEN.endswith("x") else "x")  # never the token itself
        check_refused(await client.get("/", headers=bearer(typo)), wrong)
        check_refused(await client.get("/", headers=bearer(TOKEN + "x")), wrong)
        check_refused(await client.get("/", headers={"Authorization": f"Basic {TOKEN}"}), wrong)
        check_refused(await client.get("/", headers=bearer("")), wrong)
        twice = [("Authorization", f"Bearer {TOKEN}")] * 2
        check_refused(await client.get("/", headers=twice), wrong)
        ok = await client.get("/", headers={"Authorization": f"bearer  {TOKEN} "})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    assert ok.headers["cache-control"] == "no-store"
    assert 'keyguard_lookups_total{tier="store"} 1.0' in ok.text


async def test_openmetrics_is_served_when_asked_for(metrics: PrometheusMetrics) -> None:
    headers = {**bearer(TOKEN), "Accept": "application/openmetrics-text; version=1.0.0"}
    async with scraper(metrics_app(metrics, token=TOKEN)) as client:
        response = await client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_only_reads_are_served(metrics: PrometheusMetrics) -> None:
    async with scraper(metrics_app(metrics, token=TOKEN)) as client:
        refused = await client.post("/", headers=bearer(TOKEN))
        head = await client.head("/", headers=bearer(TOKEN))
        anonymous = await client.post("/")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    assert refused.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert head.status_code == 200
    assert anonymous.status_code == 401  # the token first: nothing said to a stranger


def test_no_token_needs_public_said_out_loud(metrics: PrometheusMetrics) -> None:
    with pytest.raises(ValueError, match="public=True"):
        metrics_app(metrics, token=None)
    with pytest.raises(ValueError, match="not both"):
        metrics_app(metrics, token=TOKEN, public=True)
    with pytest.raises(ValueError, match="at least 16"):
        metrics_app(metrics, token="short")
    assert TOKEN not in repr(metrics_app(metrics, token=TOKEN))


async def test_a_public_app_serves_anyone(metrics: PrometheusMetrics) -> None:
    async with scraper(metrics_app(metrics, token=None, public=True)) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert "keyguard_cached_keys" in response.text


async def test_no_key_reaches_a_scrape(guard: KeyGuard, metrics: PrometheusMetrics) -> None:
    """Valid, refused, revoked, over-limit and unknown keys go through the middleware; the
    scrape holds no value, no part of one past its prefix, and no key id."""
    limited: dict[str, Any] = {"environment": "test", "access": "secret", "rate_limits": ["1/m"]}
    created = [
        await guard.manager.create(account="acme", name=f"k{i}", **limited) for i in range(3)
    ]
    await guard.manager.revoke(created[2].record.id, actor="test")
    values = [c.value for c in created] + [await mint(guard, access="publishable")]
    values.append(KeyFormat().generate(Access.SECRET, "live"))  # well formed, unknown
    routes = [Route("/ping", ping), Route("/metrics", metrics_app(metrics, token=TOKEN))]
    app = Starlette(routes=routes)
    wrapped = APIKeyMiddleware(app, guard=guard, public_paths=["/metrics"])
    async with scraper(wrapped) as client:
        for value in values * 2:
            await client.get("/ping", headers=bearer(value))
            await client.get("/ping", headers={"X-API-Key": value})
        await client.get(f"/ping?api_key={values[0]}")
        scrape = (await client.get("/metrics", headers=bearer(TOKEN))).text
    assert 'reason="over_rate"' in scrape and 'reason="invalid"' in scrape  # all were made
    for value in values:
        assert value not in scrape
        assert value[8:] not in scrape and value[8:24] not in scrape and value[-12:] not in scrape
    for key in created:
        assert key.record.id not in scrape

"""Helpers for the metrics tests: an app behind the middleware, keys, and reading metrics."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from keyguard import KeyGuard
from keyguard.metrics import PrometheusMetrics
from keyguard.web import APIKeyMiddleware

REQUESTS = "keyguard_requests_total"
LOOKUPS = "keyguard_lookups_total"


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


def app_for(guard: KeyGuard, **middleware: Any) -> ASGIApp:
    """`GET /ping` (open to publishable keys too) behind the guard's middleware (`middleware`:
    its other arguments)."""
    middleware.setdefault("publishable_routes", ["GET /ping"])
    app = Starlette(routes=[Route("/ping", ping, methods=["GET", "POST"])])
    return APIKeyMiddleware(app, guard=guard, **middleware)


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://metrics")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def sample(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    return metrics.registry.get_sample_value(name, labels) or 0.0


def requests(
    metrics: PrometheusMetrics,
    reason: str,
    *,
    code: str = "INVALID_API_KEY",
    access: str = "unknown",
    environment: str = "unknown",
) -> float:
    """`keyguard_requests_total` for one refusal (or, with reason "accepted", acceptance)."""
    accepted = reason == "accepted"
    labels = {
        "outcome": "accepted" if accepted else "refused",
        "reason": reason,
        "code": "" if accepted else code,
        "access": access,
        "environment": environment,
    }
    return sample(metrics, REQUESTS, **labels)


def series(metrics: PrometheusMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample named `name`, by its labels (sorted), as the registry holds them now."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == name
    }

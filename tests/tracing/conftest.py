"""Tracing through the real middleware: a tracer provider per test exporting to memory (never
the global one), guards on SQLite (and the real Redis, under a prefix of their own) reporting to
a `TracingObserver`, and helpers to read the spans."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard import KeyGuard, Observer, Settings
from keyguard.testing import MEMORY_DATABASE_URL
from keyguard.tracing import TracingObserver
from keyguard.web import APIKeyMiddleware, request_id

# Anything shaped like a key, whole or cut short: no span may hold one.
KEY_SHAPED = re.compile(r"[sp]k_(test|live)_")
PEPPER = "tracing pepper"


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    """200, echoing the request's id (the one keyguard's check used, kept in the scope)."""
    echoed = request_id(scope).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"x-request-id", echoed)]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


GuardFor = Callable[..., KeyGuard]


@pytest.fixture
async def guard_for() -> AsyncIterator[GuardFor]:
    """Guards (not started) on the settings given, each stopped at the end."""
    made: list[KeyGuard] = []

    def make(observer: Observer | None, **settings: Any) -> KeyGuard:
        settings = {"database_url": MEMORY_DATABASE_URL, "pepper": PEPPER, **settings}
        made.append(KeyGuard(Settings(**settings), observer=observer))
        return made[-1]

    yield make
    for guard in made:
        await guard.stop()


@pytest.fixture
def traced(guard_for: GuardFor, provider: TracerProvider) -> KeyGuard:
    """A guard on an in-memory SQLite store whose checks are traced, not started."""
    return guard_for(TracingObserver(tracer_provider=provider))


@pytest.fixture
def redis_settings(tmp_path: Path, redis_url: str, redis_prefix: str) -> dict[str, Any]:
    """Settings two guards share, as two processes would: a SQLite file and a Redis prefix."""
    return {
        "database_url": f"sqlite:///{tmp_path}/k.db",
        "redis_url": redis_url,
        "redis_prefix": f"{redis_prefix}{secrets.token_hex(3)}:",
    }


def client(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def guarded(guard: KeyGuard, app: ASGIApp = ok_app) -> httpx.AsyncClient:
    return client(APIKeyMiddleware(app, guard=guard))


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def verify_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == "keyguard.verify"]


def only_verify_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = verify_spans(exporter)
    assert len(spans) == 1, [s.name for s in exporter.get_finished_spans()]
    return spans[0]


def children(exporter: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


def texts(spans: Sequence[ReadableSpan]) -> Iterator[str]:
    """Every string a span exports: its name, attributes, events, links and status."""
    for span in spans:
        yield span.name
        yield span.status.description or ""
        yield from _attribute_texts(span.attributes)
        for event in span.events:
            yield event.name
            yield from _attribute_texts(event.attributes)
        for link in span.links:
            yield from _attribute_texts(link.attributes)


def _attribute_texts(attributes: Any) -> Iterator[str]:
    for name, value in (attributes or {}).items():
        yield name
        yield from (str(v) for v in value) if isinstance(value, tuple) else (str(value),)

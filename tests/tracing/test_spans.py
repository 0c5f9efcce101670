"""What a key check looks like in a trace: one `keyguard.verify` span per checked request, with
its tier, its outcome, and a child for each store or Redis call it made."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from keyguard import KeyGuard
from keyguard.testing import mint
from keyguard.tracing import TracingObserver

from .conftest import (
    GuardFor,
    bearer,
    children,
    guarded,
    only_verify_span,
    verify_spans,
)


async def _refused_for(guard: KeyGuard, exporter: InMemorySpanExporter, **headers: str) -> Any:
    """Send one request; its status, the envelope's code and the verification span."""
    async with guarded(guard) as http:
        response = await http.get("/orders", headers=headers)
    span = only_verify_span(exporter)
    assert span.attributes is not None
    assert span.attributes["keyguard.request_id"] == response.headers["x-request-id"]
    return response.status_code, response.json()["error"]["code"], span


async def test_a_store_miss_then_a_local_hit(
    traced: KeyGuard, exporter: InMemorySpanExporter
) -> None:
    key = await mint(traced)
    assert exporter.get_finished_spans() == ()  # minting is not a check
    async with guarded(traced) as http:
        first = await http.get("/orders", headers=bearer(key))
        second = await http.get("/orders", headers=bearer(key))
    assert first.status_code == second.status_code == 200
    missed, hit = verify_spans(exporter)
    assert missed.attributes is not None and hit.attributes is not None
    assert missed.attributes["keyguard.tier"] == "store"
    assert missed.attributes["keyguard.request_id"] == first.headers["x-request-id"]
    (lookup,) = children(exporter, missed)
    assert lookup.name == "keyguard.store find_by_digest"
    assert lookup.kind is SpanKind.CLIENT
    assert lookup.attributes == {
        "keyguard.system": "store",
        "db.system": "sqlite",
        "db.operation": "find_by_digest",
    }
    assert hit.attributes["keyguard.tier"] == "local"
    assert hit.attributes["keyguard.request_id"] == second.headers["x-request-id"]
    assert children(exporter, hit) == []
    assert len(exporter.get_finished_spans()) == 3  # the two checks and the one lookup


async def test_an_accepted_key_is_described_without_its_id(
    traced: KeyGuard, exporter: InMemorySpanExporter
) -> None:
    key = await mint(traced)
    async with guarded(traced) as http:
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
    span = only_verify_span(exporter)
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes is not None
    assert {k: v for k, v in span.attributes.items() if k != "keyguard.request_id"} == {
        "keyguard.tier": "store",
        "keyguard.outcome": "accepted",
        "keyguard.reason": "accepted",
        "keyguard.access": "secret",
        "keyguard.environment": "test",
    }


async def test_the_key_id_is_recorded_when_asked(
    guard_for: GuardFor, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    guard = guard_for(TracingObserver(tracer_provider=provider, record_key_id=True))
    await guard.start()
    created = await guard.manager.create(
        account="acme", name="k", environment="live", access="secret"
    )
    async with guarded(guard) as http:
        assert (await http.get("/orders", headers=bearer(created.value))).status_code == 200
    attributes = only_verify_span(exporter).attributes
    assert attributes is not None
    assert attributes["keyguard.key_id"] == created.record.id
    assert attributes["keyguard.environment"] == "live"


async def test_an_unknown_key_is_refused_after_a_lookup(
    traced: KeyGuard, guard_for: GuardFor, exporter: InMemorySpanExporter
) -> None:
    elsewhere = await mint(guard_for(None))  # well formed, stored in another database
    await traced.start()
    status, code, span = await _refused_for(traced, exporter, **bearer(elsewhere))
    assert status == 401
    assert span.attributes["keyguard.outcome"] == "refused"
    assert span.attributes["keyguard.reason"] == "invalid"
    assert span.attributes["keyguard.code"] == code
    assert span.attributes["http.response.status_code"] == 401
    assert span.attributes["keyguard.tier"] == "store"  # it answered: no such key
    assert span.attributes["keyguard.access"] == "unknown"
    assert "keyguard.key_id" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET  # keyguard did its job: not an error
    assert [c.name for c in children(exporter, span)] == ["keyguard.store find_by_digest"]


async def test_a_garbage_key_is_refused_without_a_lookup(
    traced: KeyGuard, exporter: InMemorySpanExporter
) -> None:
    await traced.start()
    status, code, span = await _refused_for(traced, exporter, **bearer("sk_test_not_a_key"))
    assert (status, span.attributes["keyguard.reason"]) == (401, "invalid")
    assert span.attributes["keyguard.code"] == code
    assert "keyguard.tier" not in span.attributes  # no tier was asked
    assert children(exporter, span) == []


async def test_a_revoked_key_is_refused(traced: KeyGuard, exporter: InMemorySpanExporter) -> None:
    await traced.start()
    created = await traced.manager.create(
        account="acme", name="k", environment="test", access="secret"
    )
    await traced.manager.revoke(created.record.id)
    status, code, span = await _refused_for(traced, exporter, **bearer(created.value))
    assert status == 401
    assert span.attributes["keyguard.outcome"] == "refused"
    assert span.attributes["keyguard.code"] == code
    assert span.attributes["http.response.status_code"] == 401
    assert "keyguard.key_id" not in span.attributes


async def test_a_missing_key_is_refused(traced: KeyGuard, exporter: InMemorySpanExporter) -> None:
    await traced.start()
    status, code, span = await _refused_for(traced, exporter)
    assert status == 401
    assert span.attributes["keyguard.reason"] == "missing"
    assert span.attributes["keyguard.code"] == code
    assert span.attributes["keyguard.environment"] == "unknown"


async def test_a_store_that_fails_is_an_error_on_both_spans(
    traced: KeyGuard, exporter: InMemorySpanExporter
) -> None:
    key = await mint(traced)
    await traced.store.close()  # the guard still thinks it is started: its next lookup fails
    status, code, span = await _refused_for(traced, exporter, **bearer(key))
    assert status == 503
    assert span.attributes["keyguard.code"] == code
    assert span.attributes["http.response.status_code"] == 503
    assert span.status.status_code is StatusCode.ERROR  # keyguard could not check the key
    (lookup,) = children(exporter, span)
    assert lookup.status.status_code is StatusCode.ERROR
    assert lookup.attributes is not None
    assert lookup.attributes["error.type"]
    assert [e.name for e in lookup.events] == ["exception"]


@pytest.mark.postgres
async def test_postgres_calls_name_their_database(
    guard_for: GuardFor,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    pg_database_url: str,
) -> None:
    guard = guard_for(TracingObserver(tracer_provider=provider), database_url=pg_database_url)
    key = await mint(guard)
    async with guarded(guard) as http:
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
    (lookup,) = children(exporter, only_verify_span(exporter))
    assert lookup.attributes is not None
    assert lookup.attributes["db.system"] == "postgresql"
    assert lookup.attributes["db.operation"] == "find_by_digest"

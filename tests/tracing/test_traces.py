"""Traces as a whole: the Redis tier, no key value anywhere, no span for background work, the
server span of OpenTelemetry's ASGI instrumentation as the parent, and checks that never end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from keyguard import Decision, KeyGuard, Observer, Observers
from keyguard.testing import mint
from keyguard.tracing import TracingObserver
from keyguard.web import APIKeyMiddleware

from .conftest import (
    KEY_SHAPED,
    GuardFor,
    bearer,
    children,
    client,
    guarded,
    ok_app,
    only_verify_span,
    texts,
    verify_spans,
)


class Counting(Observer):
    """Counts what the guard reports, to wait for background work by its count, not a clock."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.flushes: list[str] = []

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        self.operations.append(operation)
        yield

    def flushed(self, kind: str, size: int, lag: float) -> None:
        self.flushes.append(kind)


async def _until(done: Any) -> None:
    for _ in range(400):  # a bound, not a timing assertion: 20 s for a few 0.25 s polls
        if done():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the background work never came")


@pytest.mark.redis
async def test_another_process_answer_from_redis(
    guard_for: GuardFor,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    redis_settings: dict[str, Any],
) -> None:
    first = guard_for(None, **redis_settings)  # looks the key up, and leaves it in Redis
    key = await mint(first)
    async with guarded(first) as http:
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
    second = guard_for(TracingObserver(tracer_provider=provider), **redis_settings)
    await second.start()
    async with guarded(second) as http:
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
    span = only_verify_span(exporter)
    assert span.attributes is not None
    assert span.attributes["keyguard.tier"] == "redis"
    (get,) = children(exporter, span)  # not the store: Redis answered
    assert get.name == "keyguard.redis cache.get"
    assert get.kind is SpanKind.CLIENT
    assert get.attributes is not None
    assert get.attributes["db.system.name"] == "redis"
    assert get.attributes["db.operation.name"] == "cache.get"


async def test_no_span_holds_a_key_value(
    guard_for: GuardFor,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    guard = guard_for(TracingObserver(tracer_provider=provider, record_key_id=True))
    valid = await mint(guard)
    publishable = await mint(guard, access="publishable", environment="live")
    revoked = await guard.manager.create(account="a", name="r", environment="live", access="secret")
    await guard.manager.revoke(revoked.record.id)
    unknown = await mint(guard_for(None))
    typo = valid[:-1] + ("y" if valid.endswith("x") else "x")  # never the key itself
    sent = [valid, valid, publishable, revoked.value, unknown, typo, "sk_test_junk"]
    async with guarded(guard) as http:
        for key in sent:
            await http.get("/orders", headers=bearer(key))
        await http.get("/orders", headers={"x-api-key": valid})  # not read: missing
    spans = exporter.get_finished_spans()
    assert len(verify_spans(exporter)) == len(sent) + 1
    everything = list(texts(spans))
    for key in sent:
        assert not [text for text in everything if key in text]
    assert not [text for text in everything if KEY_SHAPED.search(text)]


async def test_background_work_makes_no_span(
    guard_for: GuardFor, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """The guard starts on the first request (no lifespan ran), inside its check: the change
    feed's and the writers' tasks start there, and copy its context. Their calls are still
    not the check's."""
    counting = Counting()
    tracing = TracingObserver(tracer_provider=provider)
    guard = guard_for(Observers(tracing, counting), last_used_interval=0.05)
    async with guarded(guard) as http:
        assert (await http.get("/orders")).status_code == 401  # starts the guard
        key = await mint(guard)
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
    assert len(verify_spans(exporter)) == 2
    traced = len(exporter.get_finished_spans())
    polls = counting.operations.count("read_changes")
    await _until(lambda: counting.operations.count("read_changes") >= polls + 4)
    await _until(lambda: "last_used" in counting.flushes)
    assert len(exporter.get_finished_spans()) == traced


async def test_the_check_is_a_child_of_the_server_span(
    traced: KeyGuard, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    key = await mint(traced)
    app = OpenTelemetryMiddleware(APIKeyMiddleware(ok_app, guard=traced), tracer_provider=provider)
    async with client(app) as http:
        assert (await http.get("/orders", headers=bearer(key))).status_code == 200
        assert (await http.get("/orders")).status_code == 401
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    checks = verify_spans(exporter)
    assert len(servers) == len(checks) == 2
    for server, check in zip(servers, checks, strict=True):
        assert server.context is not None and check.parent is not None
        assert check.parent.span_id == server.context.span_id
        assert check.context is not None
        assert check.context.trace_id == server.context.trace_id
    (lookup,) = children(exporter, checks[0])
    assert lookup.name == "keyguard.store find_by_digest"


async def test_a_check_never_decided_is_ended_by_the_next_one(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A request cancelled mid-check never reports its decision; a task that then serves
    another request must not make the abandoned check its parent, nor leave it open."""
    tracing = TracingObserver(tracer_provider=provider)
    tracing.verifying("req_cancelled")
    tracing.answered("store")
    tracing.verifying("req_next")
    with tracing.call("store", "find_by_digest"):
        pass
    tracing.decided(_ACCEPTED)
    abandoned, finished = verify_spans(exporter)
    assert abandoned.attributes is not None and finished.attributes is not None
    assert abandoned.attributes["keyguard.outcome"] == "abandoned"
    assert finished.attributes["keyguard.request_id"] == "req_next"
    assert finished.parent is None  # not the abandoned check
    assert [c.name for c in children(exporter, finished)] == ["keyguard.store find_by_digest"]
    assert children(exporter, abandoned) == []
    # Nothing is left current: a call now is nobody's.
    with tracing.call("store", "find_by_digest"):
        pass
    assert len(exporter.get_finished_spans()) == 3


async def test_a_check_in_another_task_is_not_this_ones(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracing = TracingObserver(tracer_provider=provider)
    tracing.verifying("req_1")

    async def background() -> None:  # copies the context, check and all
        with tracing.call("store", "read_changes"):
            pass
        tracing.decided(_ACCEPTED)  # not its check to end

    await asyncio.create_task(background())
    assert exporter.get_finished_spans() == ()
    tracing.decided(_ACCEPTED)
    span = only_verify_span(exporter)
    assert children(exporter, span) == []


def test_hooks_outside_a_check_do_nothing(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracing = TracingObserver(tracer_provider=provider)
    tracing.answered("local")
    tracing.decided(_ACCEPTED)
    with tracing.call("redis", "cache.get"):
        pass
    assert exporter.get_finished_spans() == ()


async def test_a_failed_call_passes_its_exception_through(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracing = TracingObserver(tracer_provider=provider)
    tracing.verifying("req_1")
    with pytest.raises(ConnectionError), tracing.call("redis", "cache.get"):
        raise ConnectionError("redis://:hunter2@cache:6379 refused")
    tracing.decided(_ACCEPTED)
    (failed,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "ConnectionError"
    assert not [text for text in texts([failed]) if "hunter2" in text]  # the type, not the text


_ACCEPTED = Decision(True, "accepted", "", 0, "secret", "test", "key_1")


def test_only_the_tracing_module_imports_opentelemetry() -> None:
    """OpenTelemetry comes with `keyguard[tracing]`: the rest of keyguard runs without it.
    (Read from the sources: redis's client loads it by itself when it is installed.)"""
    import ast
    from pathlib import Path

    import keyguard

    root = Path(keyguard.__file__).parent
    importers = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "opentelemetry" for name in names):
                importers.add(path.relative_to(root).as_posix())
    assert importers == {"_tracing.py"}

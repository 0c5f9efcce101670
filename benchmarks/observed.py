"""Issue 15's metrics as the benchmark turns them on, and the scrape that proves they are on.

`metrics()` gives keyguard's `PrometheusMetrics` on a registry of its own, so each case's
scrape counts only its own requests; `traced(metrics)` adds keyguard's `TracingObserver` beside
it, on an OpenTelemetry SDK tracer provider with no exporter, only a processor that counts the
spans ended (`SpanCount`): the cost of making the spans, not of shipping them.

`accepted(metrics)` reads, from a real text-format scrape of that registry (what `metrics_app`
serves), how many requests it counted as accepted: the cases compare it with the requests they
sent, so a case named "metrics on" cannot pass with metrics off.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from keyguard import APIKeyMiddleware, Observer, Observers
from keyguard.metrics import PrometheusMetrics
from keyguard.tracing import TracingObserver

from .inprocess import Case, Headers, http_scope, respond

__all__ = ["CHECK_REQUESTS", "SpanCount", "accepted", "metered", "metrics", "traced"]

CHECK_REQUESTS = 20  # requests the check sends and then finds counted in a scrape


def metrics() -> PrometheusMetrics:
    """keyguard's metrics observer, as its README shows it, on a registry of its own."""
    return PrometheusMetrics(registry=CollectorRegistry())


class SpanCount(SpanProcessor):
    """A span processor that only counts the spans ended: no export, no queue."""

    def __init__(self) -> None:
        self.ended = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


def traced(metrics: PrometheusMetrics) -> tuple[Observer, SpanCount]:
    """`metrics` and a `TracingObserver` as one observer, and the count of its spans."""
    spans = SpanCount()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    return Observers(metrics, TracingObserver(tracer_provider=provider)), spans


def accepted(metrics: PrometheusMetrics) -> float:
    """Accepted requests, as a text-format scrape of the observer's registry reports them."""
    text = generate_latest(metrics.registry).decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "keyguard_requests"
        for sample in family.samples
        if sample.name == "keyguard_requests_total" and sample.labels.get("outcome") == "accepted"
    )


def metered(
    case: Case,
    app: APIKeyMiddleware,
    plain: APIKeyMiddleware,
    headers: Headers,
    metrics: PrometheusMetrics,
    spans: SpanCount | None = None,
) -> Case:
    """Make `case` (already checked for its status and lookups) also prove metrics are on:
    `CHECK_REQUESTS` requests, then every timed one, counted as accepted by a scrape of
    `metrics` (and, with `spans`, each made one span); and that the plain case it is compared
    with has no observer."""
    if app.guard.observer is None or plain.guard.observer is not None:
        raise RuntimeError(f"{case.name}: metrics must be on here and off in the plain case")
    checked, begun, verified = case.check, case.begin, case.verify
    scope = http_scope(headers)
    before: list[float] = [0.0, 0.0]

    def seen() -> tuple[float, float]:
        return accepted(metrics), 0 if spans is None else spans.ended

    def missed(requests: int) -> str | None:
        counted, ended = seen()
        counted, ended = counted - before[0], ended - before[1]
        if counted != requests:
            return f"a scrape counted {counted:.0f} accepted, expected {requests}"
        if spans is not None and ended != requests:
            return f"{ended:.0f} spans ended, expected {requests}"
        return None

    async def check() -> None:
        await checked()
        before[:] = seen()
        for _ in range(CHECK_REQUESTS):
            answered, _ = await respond(app, dict(scope))
            if answered != [200]:
                raise RuntimeError(f"{case.name}: expected 200, got {answered}")
        wrong = missed(CHECK_REQUESTS)
        if wrong is not None:
            raise RuntimeError(f"{case.name}: {wrong}")

    def begin() -> None:
        begun()
        before[:] = seen()

    def verify(requests: int) -> str:
        found = verified(requests)
        wrong = None if found != "ok" else missed(requests)
        return found if wrong is None else f"MISMATCH: {wrong}"

    case.check, case.begin, case.verify = check, begin, verify
    return case

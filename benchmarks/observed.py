"""Issue 15's metrics as the benchmark turns them on, and the scrape that proves they are on.

`metrics()` gives keyguard's `PrometheusMetrics` on a registry of its own, so each case's
scrape counts only its own requests. `accepted(metrics)` reads, from a real text-format scrape
of that registry (what `metrics_app` serves), how many requests it counted as accepted: the
cases compare it with the requests they sent, so a case named "metrics on" cannot pass with
metrics off.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from keyguard import APIKeyMiddleware, Observer
from keyguard.metrics import PrometheusMetrics

from .inprocess import Case, Headers, http_scope, respond

__all__ = ["CHECK_REQUESTS", "accepted", "metered", "metrics"]

CHECK_REQUESTS = 20  # requests the check sends and then finds counted in a scrape


def metrics() -> PrometheusMetrics:
    """keyguard's metrics observer, as its README shows it, on a registry of its own."""
    return PrometheusMetrics(registry=CollectorRegistry())


def accepted(observer: Observer) -> float:
    """Accepted requests, as a scrape of the observer's registry reports them."""
    registry = getattr(observer, "registry", None)
    if not isinstance(registry, CollectorRegistry):
        raise RuntimeError(f"{type(observer).__name__} has no registry to scrape")
    text = generate_latest(registry).decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "keyguard_requests"
        for sample in family.samples
        if sample.name == "keyguard_requests_total" and sample.labels.get("outcome") == "accepted"
    )


def metered(case: Case, app: APIKeyMiddleware, plain: APIKeyMiddleware, headers: Headers) -> Case:
    """Make `case` (already checked for its status and lookups) also prove metrics are on:
    `CHECK_REQUESTS` requests, then every timed one, counted as accepted by a scrape of its
    observer's registry; and that the plain case it is compared with has none."""
    observer = app.guard.observer
    if observer is None or plain.guard.observer is not None:
        raise RuntimeError(f"{case.name}: metrics must be on here and off in the plain case")
    checked, begun, verified = case.check, case.begin, case.verify
    scope = http_scope(headers)
    before = [0.0]

    async def check() -> None:
        await checked()
        counted = accepted(observer)
        for _ in range(CHECK_REQUESTS):
            seen, _ = await respond(app, dict(scope))
            if seen != [200]:
                raise RuntimeError(f"{case.name}: expected 200, got {seen}")
        got = accepted(observer) - counted
        if got != CHECK_REQUESTS:
            raise RuntimeError(f"{case.name}: a scrape counted {got} of {CHECK_REQUESTS} accepted")

    def begin() -> None:
        begun()
        before[0] = accepted(observer)

    def verify(requests: int) -> str:
        found = verified(requests)
        got = accepted(observer) - before[0]
        if found != "ok" or got == requests:
            return found
        return f"MISMATCH: a scrape counted {got:.0f} accepted, expected {requests}"

    case.check, case.begin, case.verify = check, begin, verify
    return case

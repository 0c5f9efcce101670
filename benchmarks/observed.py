"""Issue 15's observers as the benchmark builds them, and the scrape that proves one is on.

`metrics()` gives keyguard's `PrometheusMetrics` (`keyguard.metrics`) on a registry of its own.
Until that module exists on this branch it gives `StandInMetrics`: an `Observer` that does what
a counter-and-histogram observer must do on a request's path (a labelled Counter's `inc` per
`answered` and per `decided`, a Histogram's `observe` of each server call's duration), so the
cost measured is of the same kind. The report says which one ran (`NAME`).

`accepted(metrics)` reads, from a real text-format scrape of the observer's registry, how many
requests it counted as accepted: the cases compare it with the requests they sent, so a case
named "metrics on" cannot pass with metrics off.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from keyguard import APIKeyMiddleware, Decision, Observer

from .inprocess import Case, Headers, http_scope, respond

__all__ = ["CHECK_REQUESTS", "NAME", "StandInMetrics", "accepted", "metered", "metrics"]

CHECK_REQUESTS = 20  # requests the check sends and then finds counted in a scrape


class StandInMetrics(Observer):
    """A counter-and-histogram observer with the hooks a local hit and a Redis hit reach."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._answered = Counter(
            "keyguard_lookups", "Lookups, by the tier that answered", ["tier"],
            registry=self.registry,
        )  # fmt: skip
        self._decided = Counter(
            "keyguard_requests",
            "Requests checked, by outcome",
            ["outcome", "access", "environment"],
            registry=self.registry,
        )
        self._calls = Histogram(
            "keyguard_call_seconds",
            "Calls to a server, by system and operation",
            ["system", "operation"],
            registry=self.registry,
        )

    def answered(self, tier: str) -> None:
        self._answered.labels(tier).inc()

    def decided(self, decision: Decision) -> None:
        self._decided.labels(decision.reason, decision.access, decision.environment).inc()

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._calls.labels(system, operation).observe(time.perf_counter() - start)


def _real() -> type[Any] | None:
    """`keyguard.metrics.PrometheusMetrics` once issue 15's module is on this branch."""
    try:
        module = importlib.import_module("keyguard.metrics")
    except ImportError:
        return None
    found: type[Any] = module.PrometheusMetrics
    return found


NAME = "stand-in (benchmarks.observed.StandInMetrics)" if _real() is None else "PrometheusMetrics"


def metrics() -> Observer:
    """A metrics observer on a registry of its own (each case counts only its requests)."""
    real = _real()
    if real is None:
        return StandInMetrics()
    made: Observer = real(registry=CollectorRegistry())
    return made


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

"""`PrometheusMetrics`: an `Observer` that counts what the guard reports, in Prometheus metrics.

Every hook runs on a request's path, so each is a dict lookup and one `inc`/`observe` on a
labelled child bound once: the label sets are small (tiers, paths, kinds, operations, and the
few (outcome, reason, code, access, environment) combinations a service meets). No label ever
holds a key, a key id, a client address or anything else a client can vary without bound.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from time import perf_counter
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Histogram

from keyguard.ports import Decision, Gauges, Observer

from ._counts import Labels, ThreadCounts
from ._gauges import WatchedGauges

__all__ = [
    "FLUSH_LAG_BUCKETS",
    "FLUSH_SIZE_BUCKETS",
    "LAG_BUCKETS",
    "LATENCY_BUCKETS",
    "PrometheusMetrics",
]

# A store or Redis call: a local Redis answers in ~100 µs, a remote store in a few ms, and a
# call at its timeout in seconds.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
# Invalidation lag: a Redis notice takes milliseconds, the change log up to its poll interval
# (0.25 s) and `max_staleness` (1 s) is the bound; beyond it something is wrong (or a clock).
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Background writes come every `last_used_interval` (5 s): their lag clusters there.
FLUSH_LAG_BUCKETS = (0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)
FLUSH_SIZE_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

_TIERS = ("local", "redis", "store")  # bound up front: each series exists, at 0, from the start
_PATHS = ("local", "redis", "log")
_KINDS = ("last_used", "quota")
_DECISION_LABELS = ("outcome", "reason", "code", "access", "environment")

_REQUESTS_HELP = "Requests whose key was checked, by how the check ended (never by key)."
_LOOKUPS_HELP = "Key lookups, by the tier that answered: local, redis or store."
_ERRORS_HELP = "Store and Redis calls that raised."
_STORE_HELP = "Key store calls, in seconds (failed ones too)."
_REDIS_HELP = "Redis calls, in seconds (failed ones too)."
_LAG_HELP = (
    "Seconds from a key change's commit to this process dropping its cached copies, by the"
    " path that brought the change: local, redis or log."
)
_FLUSH_LAG_HELP = "Seconds since the background writer's previous write, at each write."
_FLUSH_SIZE_HELP = "Rows per background write."


# A decision's fields up to its environment: all but the key id.
_DECISION_FIELDS = Decision._fields.index("environment") + 1


def _decision_labels(key: Hashable) -> Labels:
    """`decision[:_DECISION_FIELDS]` as the requests family's label values."""
    accepted, reason, code, _status, access, environment = cast(tuple[Any, ...], key)
    return ("accepted" if accepted else "refused", reason, code, access, environment)


def _tier_labels(tier: Hashable) -> Labels:
    return (cast(str, tier),)


def _local_tier(hit: Hashable) -> Labels:
    return ("local",)  # every hit was a lookup the local cache answered


class PrometheusMetrics(Observer):
    """Counts what a guard reports: `KeyGuard(settings, observer=PrometheusMetrics())`.

    Its metrics live in a `CollectorRegistry` of its own, so that several guards (or tests)
    in one process never clash; pass `registry=prometheus_client.REGISTRY` to join the global
    one (which `prometheus_client.start_http_server` serves by default). Serve it with
    `metrics_app`. Names start with `namespace` ("keyguard").
    """

    def __init__(
        self, *, registry: CollectorRegistry | None = None, namespace: str = "keyguard"
    ) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.namespace = namespace
        self._count_requests()
        self._errors = self._counter("call_errors", _ERRORS_HELP, ("system", "operation"))
        self._timers = {
            system: self._histogram(f"{system}_seconds", doc, ("operation",), LATENCY_BUCKETS)
            for system, doc in (("store", _STORE_HELP), ("redis", _REDIS_HELP))
        }
        self._change_lag = self._histogram("change_lag_seconds", _LAG_HELP, ("path",), LAG_BUCKETS)
        self._flush_lag = self._histogram(
            "flush_lag_seconds", _FLUSH_LAG_HELP, ("kind",), FLUSH_LAG_BUCKETS
        )
        self._flush_size = self._histogram(
            "flush_size", _FLUSH_SIZE_HELP, ("kind",), FLUSH_SIZE_BUCKETS
        )
        # Children bound once, found by a dict lookup on the hot path.
        self._paths = {path: self._change_lag.labels(path) for path in _PATHS}
        self._kinds = {kind: self._flush_children(kind) for kind in _KINDS}
        self._calls: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.gauges = WatchedGauges(namespace)
        self.registry.register(self.gauges)

    def _count_requests(self) -> None:
        """The two families every request adds to: plain ints, read when scraped (_counts.py).
        A local hit is one count of its own, scraped into both (never registered alone)."""
        self._hits = ThreadCounts("hits", "", _DECISION_LABELS, labels_of=_decision_labels)
        self._requests = self._counts(
            "requests",
            _REQUESTS_HELP,
            _DECISION_LABELS,
            labels_of=_decision_labels,
            also=[(self._hits, _decision_labels)],
        )
        self._lookups = self._counts(
            "lookups",
            _LOOKUPS_HELP,
            ("tier",),
            [(t,) for t in _TIERS],
            labels_of=_tier_labels,
            also=[(self._hits, _local_tier)],
        )
        self._requests_here, self._lookups_here = self._requests.local, self._lookups.local
        self._hits_here = self._hits.local

    def _counter(self, name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, doc, labels, namespace=self.namespace, registry=self.registry)

    def _counts(
        self,
        name: str,
        doc: str,
        labels: tuple[str, ...],
        seeded: list[Labels] | None = None,
        **options: Any,
    ) -> ThreadCounts:
        name = f"{self.namespace}_{name}" if self.namespace else name
        counts = ThreadCounts(name, doc, labels, seeded or (), **options)
        self.registry.register(counts)
        return counts

    def _histogram(
        self, name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> Histogram:
        return Histogram(
            name, doc, labels, namespace=self.namespace, registry=self.registry, buckets=buckets
        )

    # --- the hooks -------------------------------------------------------------------------

    def watch(self, read: Callable[[], Gauges]) -> None:
        self.gauges.watch(read)

    def answered(self, tier: str) -> None:
        try:
            counts = self._lookups_here.counts
        except AttributeError:  # this thread's first lookup
            counts = self._lookups.counts()
        counts[tier] = counts.get(tier, 0) + 1

    def decided(self, decision: Decision) -> None:
        try:
            counts = self._requests_here.counts
        except AttributeError:  # this thread's first request
            counts = self._requests.counts()
        # One C-level slice, made into labels at scrape time (`_decision_labels`). The key id,
        # last, is left out on purpose: one series (or count) per key would be unbounded.
        key = decision[:_DECISION_FIELDS]
        counts[key] = counts.get(key, 0) + 1

    def hit(self, decision: Decision) -> None:
        """`answered("local")` and `decided(decision)` as one count: the hot path's."""
        try:
            counts = self._hits_here.counts
        except AttributeError:  # this thread's first hit
            counts = self._hits.counts()
        key = decision[:_DECISION_FIELDS]
        counts[key] = counts.get(key, 0) + 1

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        children = self._calls.get((system, operation))
        if children is None:
            children = self._call_children(system, operation)
        timer, errors = children
        started = perf_counter()
        try:
            yield
        except Exception:  # the call failed: timed, and counted as an error
            if timer is not None:
                timer.observe(perf_counter() - started)
            errors.inc()
            raise
        # A call cancelled (its request gone) is neither timed nor an error: it did not end.
        if timer is not None:
            timer.observe(perf_counter() - started)

    def _call_children(self, system: str, operation: str) -> tuple[Any, Any]:
        timer = self._timers.get(system)
        children = (
            None if timer is None else timer.labels(operation),  # only "store" and "redis"
            self._errors.labels(system, operation),
        )
        self._calls[(system, operation)] = children
        return children

    def change_applied(self, lag: float | None, path: str) -> None:
        if lag is None:  # the change's commit time is unknown: nothing to measure
            return
        child = self._paths.get(path)
        if child is None:
            child = self._paths[path] = self._change_lag.labels(path)
        child.observe(lag)

    def flushed(self, kind: str, size: int, lag: float) -> None:
        children = self._kinds.get(kind)
        if children is None:
            children = self._kinds[kind] = self._flush_children(kind)
        children[0].observe(lag)
        children[1].observe(size)

    def _flush_children(self, kind: str) -> tuple[Any, Any]:
        return self._flush_lag.labels(kind), self._flush_size.labels(kind)

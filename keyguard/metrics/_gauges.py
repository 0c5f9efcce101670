"""The gauges a scrape reads from the guards being watched: what a process holds right now.

Several guards may report to one `PrometheusMetrics` (an app with two middlewares' guards, or
tests). Their gauges are then combined into one value each, as one process's: the counts
(`cached_keys`, `pending_last_used`) are summed, a breaker is open (1) if any guard's is, and
the change feed is live (1) only if every guard's is. A guard that is gone (garbage-collected)
stops being read.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from keyguard.ports import Gauges

__all__ = ["WatchedGauges"]

Read = Callable[[], Gauges]


class WatchedGauges(Collector):
    """A prometheus_client collector: `collect` reads every watched guard's gauges."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{namespace}_" if namespace else ""
        self._reads: list[Callable[[], Read | None]] = []
        self._lock = threading.Lock()  # a scrape may come from start_http_server's thread

    def watch(self, read: Read) -> None:
        # A bound method (`guard.gauges`) is held weakly: watching must not keep a guard alive.
        ref: Callable[[], Read | None] = (
            weakref.WeakMethod(read) if inspect.ismethod(read) else lambda: read
        )
        with self._lock:
            self._reads.append(ref)

    def _read_all(self) -> list[Gauges]:
        with self._lock:
            reads = [read for read in (ref() for ref in self._reads) if read is not None]
            if len(reads) < len(self._reads):  # some guard is gone: forget it
                self._reads = [ref for ref in self._reads if ref() is not None]
        return [read() for read in reads]

    def describe(self) -> Iterable[Metric]:
        """The families without samples, so that registering reads no guard."""
        return self._families([])

    def collect(self) -> Iterable[Metric]:
        return self._families(self._read_all())

    def _families(self, all_gauges: list[Gauges]) -> Iterator[Metric]:
        p = self._prefix
        cached = GaugeMetricFamily(f"{p}cached_keys", "Keys in the in-process cache.")
        pending = GaugeMetricFamily(
            f"{p}pending_last_used", "Last-used times waiting for the next background write."
        )
        live = GaugeMetricFamily(
            f"{p}change_feed_live",
            "1 when the store's change log has been read within a few poll intervals, else 0.",
        )
        breakers = GaugeMetricFamily(
            f"{p}breaker_open",
            "1 while a circuit breaker is open (its server is not being asked), else 0.",
            labels=("breaker",),
        )
        if all_gauges:
            cached.add_metric((), sum(g.cached_keys for g in all_gauges))
            pending.add_metric((), sum(g.pending_last_used for g in all_gauges))
            live.add_metric((), float(all(g.change_feed_live for g in all_gauges)))
            for name, is_open in _breakers(all_gauges).items():
                breakers.add_metric((name,), float(is_open))
        yield from (cached, breakers, live, pending)


def _breakers(all_gauges: list[Gauges]) -> dict[str, bool]:
    """Each breaker by name: open if it is open in any guard."""
    found: dict[str, bool] = {}
    for gauges in all_gauges:
        for name, is_open in gauges.breakers_open.items():
            found[name] = found.get(name, False) or is_open
    return dict(sorted(found.items()))

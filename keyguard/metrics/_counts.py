"""Counters for the hooks every request reaches (`answered`, `decided`), counted in plain ints
and turned into Prometheus counters only when scraped.

Why not `prometheus_client.Counter`: its `inc` takes a lock and checks its argument, about
350 ns a call on a 2-vCPU VM; a local-cache hit reaches two such hooks, and the two `inc`s
alone were 5% of the whole hit (issue 15's bound for metrics on). Here a hook is a dict update
on its thread's own counts: no lock, as no other thread writes them. A scrape (from any
thread) sums every thread's counts; a dict copied in one C call is never seen half-updated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["ThreadCounts"]

Labels = tuple[str, ...]
Counts = dict[Hashable, int]


def _same(key: Hashable) -> Labels:
    assert isinstance(key, tuple)
    return key


class ThreadCounts(Collector):
    """One counter family, counted per thread; a prometheus_client collector.

    A hook adds to its thread's dict in place, found without a call (the cheapest way):

        try:
            counts = family.local.counts
        except AttributeError:
            counts = family.counts()  # this thread's first count
        counts[key] = counts.get(key, 0) + 1

    A key is whatever is cheapest to get on the hot path (a slice of a tuple, say);
    `labels_of(key)` turns it into the label values when scraped, and keys giving the same
    values are summed. `seeded` label sets are scraped from the start, at 0, as a bound child
    of a `Counter` would be."""

    def __init__(
        self,
        name: str,
        doc: str,
        labelnames: Sequence[str],
        seeded: Iterable[Labels] = (),
        labels_of: Callable[[Hashable], Labels] = _same,
        also: Sequence[tuple[ThreadCounts, Callable[[Hashable], Labels]]] = (),
    ) -> None:
        self._name = name.removesuffix("_total")
        self._doc = doc
        self._labelnames = tuple(labelnames)
        self._seeded = tuple(seeded)
        self._labels_of = labels_of
        # Other counts scraped into this family too, each with its own labels: one count on
        # the hot path may then stand for several families' (a hit: a lookup and a request).
        self._also = tuple(also)
        self._created = time.time()
        self.local = threading.local()
        self._threads: list[Counts] = []  # every thread's counts, for the scrape
        self._lock = threading.Lock()  # only for a thread's first count and for a scrape

    def counts(self) -> Counts:
        """The calling thread's counts (made on its first call)."""
        try:
            found: Counts = self.local.counts
        except AttributeError:
            found = self.local.counts = {}
            with self._lock:
                self._threads.append(found)
        return found

    def describe(self) -> Iterable[Metric]:
        return [self._family({})]

    def snapshots(self) -> list[Counts]:
        """Every thread's counts, as they are now."""
        with self._lock:
            return [dict(counts) for counts in self._threads]

    def collect(self) -> Iterable[Metric]:
        total = dict.fromkeys(self._seeded, 0)
        for source, labels_of in ((self, self._labels_of), *self._also):
            for snapshot in source.snapshots():
                for key, count in snapshot.items():
                    labels = labels_of(key)
                    total[labels] = total.get(labels, 0) + count
        return [self._family(total)]

    def _family(self, total: dict[Labels, int]) -> Metric:
        family = CounterMetricFamily(self._name, self._doc, labels=self._labelnames)
        for labels, count in sorted(total.items()):
            family.add_metric(labels, count, created=self._created)
        return family

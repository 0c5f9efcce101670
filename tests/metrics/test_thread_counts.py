"""The per-request counters (`keyguard_requests_total`, `keyguard_lookups_total`) are counted
in plain per-thread ints and summed when scraped: every thread's counts are in the scrape,
also a thread's that has ended, and none is lost while a scrape reads them."""

from __future__ import annotations

import threading

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from keyguard import Decision
from keyguard.metrics import PrometheusMetrics

ACCEPTED = Decision(True, "accepted", "", 0, "secret", "live", "key_one")
OTHER_KEY = Decision(True, "accepted", "", 0, "secret", "live", "key_two")
REFUSED = Decision(False, "invalid", "INVALID_API_KEY", 401, "unknown", "unknown", None)


def scrape(metrics: PrometheusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a text-format scrape, by name and labels."""
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests(
    outcome: str, reason: str, code: str, access: str, environment: str
) -> tuple[str, frozenset[tuple[str, str]]]:
    labels = {
        "outcome": outcome, "reason": reason, "code": code, "access": access,
        "environment": environment,
    }  # fmt: skip
    return "keyguard_requests_total", frozenset(labels.items())


def lookups(tier: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return "keyguard_lookups_total", frozenset({("tier", tier)})


def test_counts_are_labelled_without_the_key_and_tiers_start_at_zero() -> None:
    metrics = PrometheusMetrics()
    before = scrape(metrics)
    for decision in (ACCEPTED, OTHER_KEY, REFUSED):
        metrics.decided(decision)
    metrics.answered("local")
    metrics.answered("local")

    after = scrape(metrics)
    assert [before[lookups(tier)] for tier in ("local", "redis", "store")] == [0, 0, 0]
    # Two keys, one series: the key id is never a label.
    assert after[requests("accepted", "accepted", "", "secret", "live")] == 2
    assert after[requests("refused", "invalid", "INVALID_API_KEY", "unknown", "unknown")] == 1
    assert [after[lookups(tier)] for tier in ("local", "redis", "store")] == [2, 0, 0]
    assert not any("key_one" in str(labels) for _, labels in after)


def test_every_threads_counts_are_summed_also_after_the_thread_ended() -> None:
    metrics = PrometheusMetrics()
    rounds, threads = 20_000, 4
    stop = threading.Event()
    scrapes: list[float] = []

    def count() -> None:
        for _ in range(rounds):
            metrics.decided(ACCEPTED)
            metrics.answered("redis")

    def scrape_meanwhile() -> None:  # a scrape from its own thread, as start_http_server's
        while not stop.is_set():
            scrapes.append(scrape(metrics)[lookups("redis")])

    scraper = threading.Thread(target=scrape_meanwhile)
    scraper.start()
    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    metrics.answered("redis")  # and this thread's own
    stop.set()
    scraper.join()

    final = scrape(metrics)
    assert final[requests("accepted", "accepted", "", "secret", "live")] == rounds * threads
    assert final[lookups("redis")] == rounds * threads + 1
    assert scrapes == sorted(scrapes)  # a counter read mid-way never goes down


def test_a_hit_counts_as_a_local_lookup_and_its_decision() -> None:
    """`hit`, the hot path's one call, scrapes exactly as `answered("local")` + `decided`."""
    one_call, two_calls = PrometheusMetrics(), PrometheusMetrics()
    decisions = [
        Decision(True, "accepted", "", 0, "secret", "live", "key_1"),
        Decision(True, "accepted", "", 0, "publishable", "test", "key_2"),
    ]
    for decision in decisions * 3:
        one_call.hit(decision)
        two_calls.answered("local")
        two_calls.decided(decision)
    for name in ("keyguard_lookups_total", "keyguard_requests_total"):
        assert _samples(one_call, name) == _samples(two_calls, name)
    assert one_call.registry.get_sample_value("keyguard_lookups_total", {"tier": "local"}) == 6


def _samples(metrics: PrometheusMetrics, name: str) -> list[tuple[str, str, float]]:
    text = generate_latest(metrics.registry).decode()
    return sorted(
        (s.name, repr(sorted(s.labels.items())), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )

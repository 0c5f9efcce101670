"""Reading a scrape of a running server: samples by name and labels, metric names by type."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

TYPE_LINE = re.compile(r"^# TYPE (\w+) (\w+)$", re.M)
# A histogram's series, in a query, by the name of the histogram they belong to.
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def scrape(base_url: str, token: str) -> str:
    response = httpx.get(
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.text


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """A sample's value, 0 when the scrape has no such series."""
    return found.get((name, frozenset(labels.items())), 0.0)


def queryable_names(text: str) -> set[str]:
    """Every series name a PromQL query may use, from the scrape's TYPE lines (present even for
    a family with no sample yet): counters' `_total`, gauges', histograms' three series."""
    names: set[str] = set()
    for name, kind in TYPE_LINE.findall(text):
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SERIES)
        else:
            names.add(name)
    return names

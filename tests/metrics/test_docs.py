"""The README's metric table names every metric `PrometheusMetrics` serves, with its type, and
nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from keyguard.metrics import PrometheusMetrics
from keyguard.testing import memory_guard

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(keyguard_\w+)` \| (\w+) \|", re.M)


def test_the_readme_table_is_the_served_metrics() -> None:
    section = README.read_text().split("\n### Metrics\n", 1)[1].split("\n### ", 1)[0]
    documented = dict(ROW.findall(section))
    metrics = PrometheusMetrics()
    metrics.watch(memory_guard().gauges)
    served = {}
    for family in metrics.registry.collect():
        # Counters are named without `_total` by the client library; the scrape adds it.
        name = family.name + ("_total" if family.type == "counter" else "")
        served[name] = family.type
    assert documented == served

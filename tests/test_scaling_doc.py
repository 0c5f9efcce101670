"""docs/scaling.md's capacity model: its tables are what `python -m benchmarks.capacity` makes
of the arguments written above them, and its hit-rate formula is what keyguard's `LocalCache`
does with a key it holds for the TTL.

The calculator runs in a process of its own (the suite never imports the benchmarks)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard.services import LocalCache

ROOT = Path(__file__).resolve().parents[1]


def capacity(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.capacity", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def figures(*args: str) -> dict[str, str]:
    done = capacity(*args, "--markdown")
    assert done.returncode == 0, done.stderr
    cells = (line.strip("|").split("|") for line in done.stdout.splitlines()[2:])
    return {name.strip(): value.strip() for name, value in cells}


def number(text: str) -> float:
    return float(text.replace(",", "").split()[0].rstrip("%"))


def test_the_docs_tables_are_the_calculators_output(tmp_path: Path) -> None:
    assert capacity("--check", "docs/scaling.md").returncode == 0
    stale = tmp_path / "scaling.md"
    stale.write_text((ROOT / "docs/scaling.md").read_text().replace("| 9,877 |", "| 9,000 |", 1))
    done = capacity("--check", str(stale))
    assert done.returncode == 1 and "stale" in done.stdout


def test_levers_move_the_figures_they_should() -> None:
    base = figures("--hosts", "4", "--workers", "2", "--keys", "100000", "--rps", "10000")
    longer = figures(
        "--hosts", "4", "--workers", "2", "--keys", "100000", "--rps", "10000",
        "--redis-cache-ttl", "600",
    )  # fmt: skip
    assert (
        number(longer["store lookups /s (refills, unknown keys)"])
        < number(base["store lookups /s (refills, unknown keys)"]) / 5
    )
    assert longer["Redis GETs /s"] == base["Redis GETs /s"]
    every_hit = figures("--hit-rate", "1")
    assert number(every_hit["Redis GETs /s"]) == 0
    assert number(every_hit["store lookups /s (refills, unknown keys)"]) == 0
    # Background work alone: 8 processes x (4 change-log reads a second, 0.2 last-used
    # writes, 0.2 LISTEN keep-alives).
    assert number(every_hit["store queries /s, all"]) == pytest.approx(8 * 4.4, abs=0.1)
    assert number(base["PostgreSQL connections, at most"]) == 8 * 11


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--hosts", "0", "--hosts must be 1 or more"),
        ("--hit-rate", "1.5", "--hit-rate must be from 0 to 1"),
        ("--rps", "-1", "--rps must be 0 or more"),
    ],
)
def test_nonsense_is_refused_in_words(flag: str, value: str, says: str) -> None:
    done = capacity(flag, value)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("rate_times_ttl", [0.05, 0.5, 2.0, 10.0])
def test_the_hit_rate_formula_is_what_the_local_cache_does(rate_times_ttl: float) -> None:
    """Requests for one key arriving at random (Poisson) at rate `lam` in one process, through
    keyguard's LocalCache with a one-second TTL: the share answered by the cache is
    lam T / (1 + lam T), the model's H."""
    now = [0.0]
    cache = LocalCache(ttl=1.0, clock=lambda: now[0])
    arrivals = random.Random(20261128)
    hits = 0
    requests = 40_000
    for _ in range(requests):
        now[0] += arrivals.expovariate(rate_times_ttl)
        if cache.get(b"digest") is None:
            cache.put(b"digest", None)
        else:
            hits += 1
    expected = rate_times_ttl / (1 + rate_times_ttl)
    assert hits / requests == pytest.approx(expected, abs=0.01)
    shown = figures("--hosts", "1", "--workers", "1", "--keys", "1", "--rps", str(rate_times_ttl))
    assert number(shown["local hit rate"]) / 100 == pytest.approx(expected, abs=0.001)

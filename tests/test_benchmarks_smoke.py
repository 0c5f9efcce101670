"""The benchmark harness runs and reports in the shape `benchmarks/README.md` documents.

Behaviour only: `python -m benchmarks --smoke --skip e2e` runs two rounds of every in-process
case, and the scale phase at tiny sizes (200 and 1,000 keys), against the real PostgreSQL and
Redis, in a process of its own (so the benchmarks and what they import stay out of this one),
and nothing here asserts a time: the figures are `python -m benchmarks`'s business, not the
suite's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "bare.starlette",
    "floor",
    "keyguard.local_hit",
    "keyguard.local_hit.metrics",
    "keyguard.local_hit.traced",
    "keyguard.local_hit.restricted_secret",
    "keyguard.local_hit.publishable",
    "keyguard.local_hit.restricted_publishable",
    "keyguard.local_hit.rate_limited",
    "keyguard.local_hit.quota",
    "keyguard.redis_hit",
    "keyguard.redis_hit.metrics",
    "keyguard.redis_hit.verify",
    "keyguard.store_hit",
    "keyguard.store_hit.verify",
    "keyguard.garbage",
    "keyguard.garbage.decision",
    "keyguard.missing",
    "keyguard.missing.decision",
    "ref.redis_get",
    "ref.asyncpg_fetch",
    "ref.evalsha.rate_limited",
    "ref.evalsha.quota",
    "alt.starlette_auth",
    "alt.base_http",
    "alt.fastapi_header",
}
END_TO_END = {"local_hit_e2e", "vs.starlette_auth", "vs.fastapi_header", "vs.base_http"}


def test_harness_measures_and_reports(tmp_path: Path, pg_database_url: str, redis_url: str) -> None:
    args = ["--smoke", "--skip", "e2e", "--out", str(tmp_path)]
    args += ["--database-url", pg_database_url, "--redis-url", redis_url]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    saved = json.loads((tmp_path / "smoke.json").read_text())
    assert set(saved) == {"meta", "inprocess", "scale", "targets"}
    cases = saved["inprocess"]["cases"]
    assert set(cases) == CASES
    # Each case proved it is what its name says: the status, and which tier answered.
    assert {name: c["verified"] for name, c in cases.items()} == dict.fromkeys(CASES, "ok")
    for case in cases.values():
        assert case["rounds"] == 2
        assert 0 < case["median_us"] <= case["p99_us"]
    assert cases["bare.starlette"]["ratio"] == 1.0

    targets = {t["key"]: t for t in saved["targets"]}
    assert all(
        {"target", "measured", "limit", "met", "margin"} <= t.keys() for t in saved["targets"]
    )
    assert {key for key, t in targets.items() if t["measured"] is None} == END_TO_END
    # Issue 13: each restricted hit judged against the plain hit of its access type.
    assert {"restricted_secret", "restricted_publishable"} <= targets.keys()
    # Issue 14: each limited hit judged against a bare EVALSHA of the script call it makes.
    assert {"rate_limited", "quota"} <= targets.keys()
    # Issue 15: each hit with metrics on judged against the same hit with metrics off.
    assert {"local_hit_metrics", "redis_hit_metrics"} <= targets.keys()
    _check_scale(saved["scale"], saved["meta"])
    markdown = (tmp_path / "smoke.md").read_text()
    assert "## In-process" in markdown
    assert "## Targets (issues 5, 13, 14 and 15)" in markdown
    assert "Targets (issues 5, 13, 14 and 15)" in done.stdout
    assert "## Scale (issue 16)" in markdown
    assert "CUT: workers: not run (no wrk, or --skip e2e)" in markdown


def _check_scale(scale: dict[str, Any], meta: dict[str, Any]) -> None:
    """Issue 16: each store and Redis size measured, each lookup proved to reach its tier, the
    seeded keys counted; memory per key measured; the worker runs cut, and the cut said."""
    assert set(scale["store"]) == {"200", "1000"}
    assert [s["keys"] for s in scale["store"].values()] == [200, 1000]
    assert set(scale["redis"]) == {"200", "1000"}
    assert scale["redis"]["1000"]["entries"] == 1000
    for size in [*scale["store"].values(), *scale["redis"].values()]:
        assert {c["verified"] for c in size["cases"].values()} == {"ok"}
        assert size["ratio"] > 0
    assert scale["memory"]["local"]["300"]["keys"] == 300
    assert scale["memory"]["local"]["300"]["bytes_per_key"] > 0
    assert scale["memory"]["redis"]["300"]["entries"] == 300
    assert scale["memory"]["redis"]["300"]["memory_usage_one"] > 0
    assert scale["workers"] == {}
    assert scale["cuts"] == ["workers: not run (no wrk, or --skip e2e)"]
    assert "cut: workers: not run (no wrk, or --skip e2e)" in meta["notes"]
    assert len(meta["load_averages_before"]) == len(meta["load_averages_after"]) == 3

"""The benchmark harness runs and reports in the shape the README documents.

Behaviour only: a handful of iterations against SQLite (no server, no Redis), and no assertion
on any time. The figures themselves are `python -m benchmarks`'s business, not the suite's.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from benchmarks import report, seed
from benchmarks.environment import BenchEnv
from benchmarks.runner import QUICK, inprocess_phase
from benchmarks.targets import evaluate

EXPECTED = {
    "bare.starlette",
    "bare.fastapi",
    "floor",
    "keyguard.local_hit",
    "keyguard.store_hit.sqlite",
    "keyguard.garbage",
    "keyguard.missing",
}


async def _sqlite_env(tmp_path: Path) -> BenchEnv:
    env = BenchEnv(None, None, "unused:", f"sqlite:///{tmp_path}/keys.db", pepper="smoke-pepper")
    _, key = await seed.mint_key(env.sqlite_url, env.pepper)
    return dataclasses.replace(env, key_sqlite=key)


async def test_in_process_harness_measures_and_reports(tmp_path: Path) -> None:
    env = await _sqlite_env(tmp_path)
    tiny = dataclasses.replace(QUICK, rounds=2, batch_seconds=0.0005)
    section = await inprocess_phase(env, tiny, deadline=time.monotonic() + 5)

    cases = section["cases"]
    assert cases.keys() >= EXPECTED
    # Each case proved it is what its name says: the status, and which tier answered.
    assert {name: c["verified"] for name, c in cases.items()} == dict.fromkeys(cases, "ok")
    assert {"keyguard.redis_hit", "ref.asyncpg_fetch", "alt.base_http"} <= section["skipped"].keys()
    for case in cases.values():
        assert case["rounds"] == 2
        assert case["median_us"] > 0
        assert case["p99_us"] >= case["median_us"]
    assert cases["bare.starlette"]["ratio"] == 1.0

    results = {"inprocess": section, "meta": _meta()}
    verdicts = {v.target: v for v in evaluate(results)}
    assert any(v.measured is not None for v in verdicts.values())
    assert all(v.met is None for v in verdicts.values() if "end-to-end" in v.target)

    written = report.write_all(results, tmp_path / "results")
    saved = json.loads((tmp_path / "results" / "smoke.json").read_text())
    assert set(saved) >= {"meta", "inprocess", "targets"}
    assert {"target", "measured", "limit", "met", "margin"} <= saved["targets"][0].keys()
    assert "## Targets (issue 5)" in (tmp_path / "results" / "smoke.md").read_text()
    assert {p.suffix for p in written} >= {".json", ".md"}


def _meta() -> dict[str, object]:
    return {
        "mode": "smoke",
        "command": "pytest",
        "started_at": "now",
        "duration_s": 0.0,
        "machine": "test",
        "load_before": 0.0,
        "load_after": 0.0,
        "versions": {},
    }

"""The issue's targets, each judged from a run's results: met, not met (and by how much), or
not measured (and why). Figures, not tests: nothing here fails a build."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Verdict", "evaluate"]

Results = dict[str, Any]


@dataclass
class Verdict:
    key: str  # a short name: local_hit, garbage, redis_hit, vs.base_http, ...
    target: str  # as the issue states it
    measured: float | None
    limit: float
    unit: str  # "x" (a ratio) or "us"
    at_most: bool  # the measured value must be <= limit (else >=)
    detail: str  # what was divided by what

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured <= self.limit if self.at_most else self.measured >= self.limit

    @property
    def margin(self) -> str:
        """By how much, relative to the limit: positive is room to spare, negative a miss."""
        if self.measured is None:
            return ""
        spare = (self.limit - self.measured) if self.at_most else (self.measured - self.limit)
        return f"{spare / self.limit:+.1%}"

    def status(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "margin": self.margin}


def _inproc(results: Results, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = results.get("inprocess", {}).get("cases", {}).get(name)
    return found


def _e2e(results: Results, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = results.get("e2e", {}).get("targets", {}).get(name)
    return found


def _ratio(
    name: str, target: str, limit: float, at_most: bool, top: Any, bottom: Any, field: str
) -> Verdict:
    if top is None or bottom is None:
        return Verdict(name, target, None, limit, "x", at_most, "not measured in this run")
    measured = top[field] / bottom[field]
    unit = "us" if field == "median_us" else "req/s"
    detail = f"{top[field]:.1f} / {bottom[field]:.1f} {unit}"
    return Verdict(name, target, measured, limit, "x", at_most, detail)


def _local_hit(r: Results) -> Verdict:
    return _ratio(
        "local_hit", "local-cache hit <= 1.25x bare Starlette, in-process (median)", 1.25, True,
        _inproc(r, "keyguard.local_hit"), _inproc(r, "bare.starlette"), "median_us",
    )  # fmt: skip


def _local_hit_e2e(r: Results) -> Verdict:
    verdict = _ratio(
        "local_hit_e2e", "local-cache hit >= 0.93x the bare app's end-to-end throughput",
        0.93, False,
        _e2e(r, "keyguard"), _e2e(r, "bare.starlette"), "rps",
    )  # fmt: skip
    keyguard, bare = _e2e(r, "keyguard"), _e2e(r, "bare.starlette")
    if keyguard is not None and bare is not None and bare.get("cpu_us"):
        # Steadier than req/s on a shared machine: what each request cost the server.
        cpu = f"{keyguard['cpu_us']:.0f} / {bare['cpu_us']:.0f} us"
        verdict.detail += (
            f"; server CPU per request {cpu} = {bare['cpu_us'] / keyguard['cpu_us']:.2f}x"
        )
    return verdict


def _rejected(r: Results, name: str, what: str) -> Verdict:
    key = name.removeprefix("keyguard.")
    target = f"{what} rejected in under 2 us in-process (the whole 401, median)"
    case, decision = _inproc(r, name), _inproc(r, f"{name}.decision")
    if case is None:
        return Verdict(key, target, None, 2.0, "us", True, "not measured in this run")
    detail = "middleware call, 401 sent"
    if decision is not None:
        detail += f"; the decision alone (no response) takes {decision['median_us']:.2f} us"
    return Verdict(key, target, case["median_us"], 2.0, "us", True, detail)


def _alone(r: Results, name: str, bottom: float) -> str:
    alone = _inproc(r, f"{name}.verify")
    if alone is None:
        return ""
    return (
        f"; verifier.verify alone: {alone['median_us']:.1f} us, {alone['median_us'] / bottom:.2f}x"
    )


def _redis_hit(r: Results) -> Verdict:
    verdict = _ratio(
        "redis_hit", "Redis hit <= 1.15x a bare redis-py GET (median, the whole request)",
        1.15, True,
        _inproc(r, "keyguard.redis_hit"), _inproc(r, "ref.redis_get"), "median_us",
    )  # fmt: skip
    get = _inproc(r, "ref.redis_get")
    if verdict.measured is not None and get is not None:
        verdict.detail += _alone(r, "keyguard.redis_hit", get["median_us"])
    return verdict


def _store_hit(r: Results) -> Verdict:
    target = (
        "store hit (Postgres) <= 1.15x a bare Redis GET + a bare asyncpg prepared fetch (median)"
    )
    hit, get, fetch = (
        _inproc(r, n) for n in ("keyguard.store_hit.postgres", "ref.redis_get", "ref.asyncpg_fetch")
    )
    if hit is None or get is None or fetch is None:
        return Verdict("store_hit", target, None, 1.15, "x", True, "not measured in this run")
    both = get["median_us"] + fetch["median_us"]
    detail = (
        f"{hit['median_us']:.1f} / ({get['median_us']:.1f} + {fetch['median_us']:.1f}) us;"
        f" {hit['median_us'] / fetch['median_us']:.2f}x the fetch alone"
    ) + _alone(r, "keyguard.store_hit.postgres", both)
    return Verdict("store_hit", target, hit["median_us"] / both, 1.15, "x", True, detail)


def _versus(r: Results, name: str, limit: float, label: str) -> Verdict:
    verdict = _ratio(
        f"vs.{name.removeprefix('alt.')}", f"end-to-end throughput >= {limit:g}x {label}",
        limit, False,
        _e2e(r, "keyguard"), _e2e(r, name), "rps",
    )  # fmt: skip
    bare, other = _e2e(r, "bare.starlette"), _e2e(r, name)
    if verdict.measured is not None and bare is not None and other is not None:
        # What no auth at all would reach: the server's own cost per request caps the ratio.
        verdict.detail += f"; ceiling (bare app, no auth): {bare['rps'] / other['rps']:.2f}x"
    return verdict


CHECKS: list[Callable[[Results], Verdict]] = [
    _local_hit,
    _local_hit_e2e,
    lambda r: _rejected(r, "keyguard.garbage", "garbage (bad checksum)"),
    lambda r: _rejected(r, "keyguard.missing", "missing key"),
    _redis_hit,
    _store_hit,
    lambda r: _versus(r, "alt.starlette_auth", 4, "AuthenticationMiddleware + per-request lookup"),
    lambda r: _versus(r, "alt.fastapi_header", 4, "FastAPI APIKeyHeader + per-request lookup"),
    lambda r: _versus(r, "alt.keyshield_nodelay", 4, "keyshield, delay off (per-request lookup)"),
    lambda r: _versus(r, "alt.keyshield", 4, "keyshield, defaults (per-request lookup)"),
    lambda r: _versus(r, "alt.base_http", 5, "BaseHTTPMiddleware + per-request lookup"),
]


def evaluate(results: Results) -> list[Verdict]:
    return [check(results) for check in CHECKS]

"""The targets of issues 5, 13, 14 and 15, each judged from a run's results: met, not met (and by
how much), or not measured (and why). Figures, not tests: nothing here fails a build; the verdicts
are what the README's "How fast" paragraph reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Verdict", "evaluate"]

Results = dict[str, Any]
Row = dict[str, Any] | None
NOT_MEASURED = "not measured in this run"


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


def _inproc(results: Results, name: str) -> Row:
    found: Row = results.get("inprocess", {}).get("cases", {}).get(name)
    return found


def _e2e(results: Results, name: str) -> Row:
    found: Row = results.get("e2e", {}).get("targets", {}).get(name)
    return found


def _ratio(key: str, target: str, limit: float, field: str, top: Row, *bottom: Row) -> Verdict:
    """`top` over the sum of `bottom`: a cost at most `limit` (median_us) or a throughput at
    least `limit` (rps) times the reference."""
    at_most = field == "median_us"
    if top is None or None in bottom:
        return Verdict(key, target, None, limit, "x", at_most, NOT_MEASURED)
    rows = [row for row in bottom if row is not None]
    below = sum(row[field] for row in rows)
    parts = " + ".join(f"{row[field]:.1f}" for row in rows)
    parts = f"({parts})" if len(rows) > 1 else parts
    detail = f"{top[field]:.1f} / {parts} {'us' if at_most else 'req/s'}"
    return Verdict(key, target, top[field] / below, limit, "x", at_most, detail)


def _alone(r: Results, name: str, verdict: Verdict) -> Verdict:
    """Add what `verifier.verify` alone costs against the same reference: the rest is the
    middleware's path and the app."""
    alone = _inproc(r, f"{name}.verify")
    if verdict.measured is not None and alone is not None:
        top = _inproc(r, name)
        assert top is not None
        below = top["median_us"] / verdict.measured  # the reference the ratio was taken against
        ratio = alone["median_us"] / below
        verdict.detail += f"; verifier.verify alone: {alone['median_us']:.1f} us, {ratio:.2f}x"
    return verdict


def _local_hit(r: Results) -> Verdict:
    target = "local-cache hit <= 1.25x bare Starlette, in-process (median)"
    top, bare = _inproc(r, "keyguard.local_hit"), _inproc(r, "bare.starlette")
    return _ratio("local_hit", target, 1.25, "median_us", top, bare)


def _restricted(r: Results, key: str, what: str, plain: str, label: str) -> Verdict:
    """Issue 13: a restricted key's local-cache hit against the plain key's of the same access
    type, on identically configured apps in the same rounds: what its checks add."""
    target = f"restricted {what} hit <= 1.10x {label}, in-process (median)"
    top, bottom = _inproc(r, f"keyguard.local_hit.{key}"), _inproc(r, plain)
    return _ratio(key, target, 1.10, "median_us", top, bottom)


def _limited(r: Results, key: str, what: str) -> Verdict:
    """Issue 14: a limited key's local-cache hit against a bare redis-py EVALSHA of the command
    it sends, in the same rounds: what keyguard adds around its one round trip. The plain
    (unlimited) hit of the same rounds is named beside it: what limiting costs in all."""
    target = f"{what} hit <= 1.15x a bare redis-py EVALSHA of the same script, in-process (median)"
    top, evalsha = _inproc(r, f"keyguard.local_hit.{key}"), _inproc(r, f"ref.evalsha.{key}")
    verdict = _ratio(key, target, 1.15, "median_us", top, evalsha)
    plain = _inproc(r, "keyguard.local_hit")
    if verdict.measured is not None and plain is not None:
        assert top is not None
        more = top["median_us"] - plain["median_us"]
        verdict.detail += (
            f"; a plain hit: {plain['median_us']:.1f} us, the limited one"
            f" {top['median_us'] / plain['median_us']:.2f}x ({more:+.1f} us)"
        )
    return verdict


def _metrics(r: Results, key: str, plain: str, what: str) -> Verdict:
    """Issue 15: a hit with a metrics observer against the same hit without one, on apps
    configured alike, in the same rounds: what reporting adds. The CPU time per request of
    both is named beside it (an I/O hit's wall time swings with the machine's load)."""
    target = f"{what}, metrics on <= 1.05x metrics off, in-process (median)"
    top, bottom = _inproc(r, f"{plain}.metrics"), _inproc(r, plain)
    verdict = _ratio(key, target, 1.05, "median_us", top, bottom)
    if verdict.measured is not None:
        assert top is not None
        assert bottom is not None
        more = top["median_us"] - bottom["median_us"]
        cpu = f"{top['cpu_us']:.1f} / {bottom['cpu_us']:.1f} us"
        verdict.detail += (
            f" ({more:+.2f} us); CPU per request {cpu} = {top['cpu_us'] / bottom['cpu_us']:.2f}x"
        )
        traced = _inproc(r, f"{plain}.traced")  # no target: what tracing adds, for the record
        if traced is not None:
            verdict.detail += (
                f"; metrics + tracing: {traced['median_us']:.1f} us,"
                f" {traced['median_us'] / bottom['median_us']:.2f}x"
            )
    return verdict


def _local_hit_e2e(r: Results) -> Verdict:
    target = "local-cache hit >= 0.93x the bare app's end-to-end throughput"
    keyguard, bare = _e2e(r, "keyguard"), _e2e(r, "bare.starlette")
    verdict = _ratio("local_hit_e2e", target, 0.93, "rps", keyguard, bare)
    if keyguard is not None and bare is not None and keyguard["cpu_us"] and bare["cpu_us"]:
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
        return Verdict(key, target, None, 2.0, "us", True, NOT_MEASURED)
    detail = "middleware call, 401 sent"
    if decision is not None:
        detail += f"; the decision alone (no response) takes {decision['median_us']:.2f} us"
    return Verdict(key, target, case["median_us"], 2.0, "us", True, detail)


def _redis_hit(r: Results) -> Verdict:
    target = "Redis hit <= 1.15x a bare redis-py GET (median, the whole request)"
    top, get = _inproc(r, "keyguard.redis_hit"), _inproc(r, "ref.redis_get")
    return _alone(r, "keyguard.redis_hit", _ratio("redis_hit", target, 1.15, "median_us", top, get))


def _store_hit(r: Results) -> Verdict:
    target = "store hit (Postgres) <= 1.15x a bare Redis GET + a bare asyncpg prepared fetch"
    top = _inproc(r, "keyguard.store_hit")
    get, fetch = _inproc(r, "ref.redis_get"), _inproc(r, "ref.asyncpg_fetch")
    verdict = _ratio("store_hit", target, 1.15, "median_us", top, get, fetch)
    return _alone(r, "keyguard.store_hit", verdict)


def _versus(r: Results, name: str, limit: float, label: str) -> Verdict:
    target = f"end-to-end throughput >= {limit:g}x {label}"
    key = f"vs.{name.removeprefix('alt.')}"
    bare, other = _e2e(r, "bare.starlette"), _e2e(r, name)
    verdict = _ratio(key, target, limit, "rps", _e2e(r, "keyguard"), other)
    if verdict.measured is not None and bare is not None and other is not None:
        # What no auth at all would reach: the server's own cost per request caps the ratio.
        verdict.detail += f"; ceiling (bare app, no auth): {bare['rps'] / other['rps']:.2f}x"
    return verdict


CHECKS: list[Callable[[Results], Verdict]] = [
    _local_hit,
    lambda r: _restricted(
        r, "restricted_secret", "secret key (10 networks)", "keyguard.local_hit", "a plain hit"
    ),
    lambda r: _restricted(
        r,
        "restricted_publishable",
        "publishable key (10 origins)",
        "keyguard.local_hit.publishable",
        "a plain publishable hit",
    ),
    lambda r: _limited(r, "rate_limited", "rate-limited secret key"),
    lambda r: _limited(r, "quota", "rate-limited secret key with a quota"),
    lambda r: _metrics(r, "local_hit_metrics", "keyguard.local_hit", "local-cache hit"),
    lambda r: _metrics(r, "redis_hit_metrics", "keyguard.redis_hit", "Redis hit"),
    _local_hit_e2e,
    lambda r: _rejected(r, "keyguard.garbage", "garbage (bad checksum)"),
    lambda r: _rejected(r, "keyguard.missing", "missing key"),
    _redis_hit,
    _store_hit,
    lambda r: _versus(r, "alt.starlette_auth", 4, "AuthenticationMiddleware + per-request lookup"),
    lambda r: _versus(r, "alt.fastapi_header", 4, "FastAPI APIKeyHeader + per-request lookup"),
    lambda r: _versus(r, "alt.base_http", 5, "BaseHTTPMiddleware + per-request lookup"),
]


def evaluate(results: Results) -> list[Verdict]:
    return [check(results) for check in CHECKS]

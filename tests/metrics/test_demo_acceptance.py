"""The acceptance test: `keyguard demo` as a separate process on 127.0.0.1, a scripted mix of
requests (cache hits and misses, garbage, a missing key, an unknown one, a key revoked by the
CLI meanwhile, a key over its rate limit), then a scrape of /metrics whose counters must be
exactly what the script did. And the Grafana dashboard only queries metrics the demo serves."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyguard import Access, KeyFormat
from tests._keyguard_process import KeyguardProcess, run_cli

from ._scrape import queryable_names, samples, scrape, value

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "keyguard.json"
TOKEN_LINE = re.compile(r'Bearer ([A-Za-z0-9_-]{32,})" (http://127\.0\.0\.1:\d+/metrics)')
# Local entries last the whole test (not the default 1 s): which tier answers is then fixed by
# the script alone, not by how fast the machine runs it. Revocation still comes through the
# change log, read every 0.25 s.
DEMO_ENV = {
    "KEYGUARD_MAX_STALENESS": "120",
    "KEYGUARD_LOCAL_CACHE_TTL": "120",
    "KEYGUARD_LAST_USED_INTERVAL": "0.5",
}
WAIT = 15.0
SHOWN = (  # what the dashboard must show, at least
    "keyguard_requests_total",
    "keyguard_lookups_total",
    "keyguard_store_seconds_bucket",
    "keyguard_redis_seconds_bucket",
    "keyguard_change_lag_seconds_bucket",
    "keyguard_breaker_open",
    "keyguard_cached_keys",
    "keyguard_flush_lag_seconds_bucket",
)


class Demo:
    def __init__(self, process: KeyguardProcess) -> None:
        self.process = process
        found = TOKEN_LINE.search(process.output())
        assert found, f"no metrics line in the banner:\n{process.output()}"
        self.token, self.metrics_url = found.groups()
        self.base = process.base_url

    def scrape(self) -> str:
        return scrape(self.base, self.token)

    def get(self, path: str, key: str | None = None) -> int:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return httpx.get(self.base + path, headers=headers, timeout=10).status_code

    def cli(self, *args: str) -> Any:
        return json.loads(run_cli(self.process.cwd, *args, "--json"))

    def wait_for(self, name: str, at_least: float, **labels: str) -> None:
        deadline = time.monotonic() + WAIT
        while value(samples(self.scrape()), name, **labels) < at_least:
            assert time.monotonic() < deadline, f"{name}{labels} never reached {at_least}"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with KeyguardProcess(["demo"], tmp_path_factory.mktemp("demo"), env=DEMO_ENV) as process:
        yield Demo(process)


def mint(demo: Demo, name: str, *limits: str) -> dict[str, Any]:
    args = ["keys", "create", "--account", "demo", "--name", name, "--env", "test"]
    return demo.cli(*args, "--access", "secret", *limits)  # type: ignore[no-any-return]


def test_metrics_need_the_token_the_banner_printed(demo: Demo) -> None:
    assert demo.metrics_url == demo.base + "/metrics"
    assert httpx.get(demo.metrics_url).status_code == 401
    wrong = {"Authorization": f"Bearer {demo.token[:-2]}xx"}
    assert httpx.get(demo.metrics_url, headers=wrong).status_code == 401
    response = httpx.get(demo.metrics_url, headers={"Authorization": f"Bearer {demo.token}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_every_counter_is_what_the_script_did(demo: Demo) -> None:
    secret, publishable = demo.process.keys
    limited = mint(demo, "limited", "--rate-limit", "2/10s")
    doomed = mint(demo, "doomed")
    unknown = KeyFormat().generate(Access.SECRET, "test")
    statuses = [demo.get("/v1/me", secret) for _ in range(3)]  # a miss, then two hits
    statuses += [demo.get("/v1/storefront/products", publishable) for _ in range(2)]
    statuses += [demo.get("/v1/me", "garbage") for _ in range(2)]  # refused on its format
    statuses += [demo.get("/v1/me", unknown) for _ in range(2)]  # the store, then cached
    statuses += [demo.get("/v1/me"), demo.get("/health")]  # no key; a public path
    statuses += [demo.get("/v1/me", doomed["value"])]
    demo.cli("keys", "revoke", doomed["id"])  # another process: heard of through the log
    demo.wait_for("keyguard_change_lag_seconds_count", 1, path="log")
    statuses += [demo.get("/v1/me", doomed["value"])]  # dropped here: the store says revoked
    statuses += [demo.get("/v1/me", limited["value"]) for _ in range(3)]
    assert statuses == [200] * 5 + [401] * 5 + [200, 200, 401, 200, 200, 429]
    found = samples(demo.scrape())

    def requests(reason: str, code: str = "INVALID_API_KEY", **who: str) -> float:
        accepted = reason == "accepted"
        labels = {"access": "unknown", "environment": "unknown", **who, "reason": reason}
        labels |= {"outcome": "accepted", "code": ""} if accepted else {"outcome": "refused"}
        return value(found, "keyguard_requests_total", **{"code": code, **labels})

    assert requests("accepted", access="secret", environment="test") == 6
    assert requests("accepted", access="publishable", environment="test") == 2
    assert requests("invalid") == 5
    assert requests("missing") == 1
    assert requests("over_rate", "RATE_LIMITED", access="secret", environment="test") == 1
    total = sum(v for (n, _), v in found.items() if n == "keyguard_requests_total")
    assert total == 15  # nothing else counted: not /health, not the scrapes
    tiers = {t: value(found, "keyguard_lookups_total", tier=t) for t in ("local", "redis", "store")}
    assert tiers == {"local": 6, "redis": 0, "store": 6}
    assert value(found, "keyguard_store_seconds_count", operation="find_by_digest") == 6
    assert value(found, "keyguard_change_lag_seconds_count", path="log") == 1
    assert value(found, "keyguard_change_lag_seconds_count", path="local") == 0
    assert value(found, "keyguard_breaker_open", breaker="shared_cache") == 0
    assert value(found, "keyguard_change_feed_live") == 1
    assert (
        value(found, "keyguard_cached_keys") == 5
    )  # secret, publishable, unknown, doomed, limited
    demo.wait_for("keyguard_flush_size_count", 1, kind="last_used")
    text = demo.scrape()
    for key in (secret, publishable, limited["value"], doomed["value"], unknown):
        assert key not in text and key[8:] not in text
    assert doomed["id"] not in text and limited["id"] not in text


def dashboard_metric_names() -> dict[str, set[str]]:
    """Each panel's title and the `keyguard_*` series its queries use."""
    board = json.loads(DASHBOARD.read_text())
    panels = board["panels"]
    panels += [inner for panel in panels for inner in panel.get("panels", [])]  # in rows
    used: dict[str, set[str]] = {}
    for panel in panels:
        for target in panel.get("targets", []):
            used.setdefault(panel["title"], set()).update(
                re.findall(r"\bkeyguard_\w+", target["expr"])
            )
    return used


def test_the_dashboard_queries_only_metrics_the_demo_serves(demo: Demo) -> None:
    served = queryable_names(demo.scrape())
    used = dashboard_metric_names()
    assert len(used) >= 8  # every panel has its queries: none was skipped by the parsing
    assert all(used.values())
    missing = {title: names - served for title, names in used.items() if names - served}
    assert missing == {}
    variables = json.loads(DASHBOARD.read_text())["templating"]["list"]
    for variable in variables:  # the instance picker lists instances of a served metric
        assert set(re.findall(r"\bkeyguard_\w+", variable.get("definition", ""))) <= served
    every = set().union(*used.values())
    for name in SHOWN:
        assert name in every, f"no panel shows {name}"

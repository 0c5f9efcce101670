"""The demo's Prometheus metrics: on when prometheus_client is installed (`keyguard[metrics]`),
served at `METRICS_PATH` behind a token made for the run."""

from __future__ import annotations

import secrets
from typing import NamedTuple

from starlette.types import ASGIApp

from keyguard.ports import Observer

__all__ = ["METRICS_PATH", "DemoMetrics", "demo_metrics", "metrics_lines"]

METRICS_PATH = "/metrics"


class DemoMetrics(NamedTuple):
    observer: Observer  # for the demo's guard
    app: ASGIApp  # to serve at METRICS_PATH
    token: str  # what a scrape sends as `Authorization: Bearer <token>`


def demo_metrics() -> DemoMetrics | None:
    """Metrics for the demo's guard, or None without prometheus_client (the demo runs anyway).

    Behind a token although the demo listens on 127.0.0.1 by default: `--host` can put it on a
    network, and the demo should show the setup to copy, not an open /metrics."""
    try:
        from keyguard.metrics import PrometheusMetrics, metrics_app
    except ImportError:
        return None
    token = secrets.token_urlsafe(32)
    metrics = PrometheusMetrics()
    return DemoMetrics(metrics, metrics_app(metrics, token=token), token)


def metrics_lines(base_url: str, metrics: DemoMetrics | None) -> str:
    """What the banner says of metrics: how to scrape them, or how to turn them on."""
    url = base_url.rstrip("/") + METRICS_PATH
    if metrics is None:
        return f"Metrics are off: pip install 'keyguard[metrics]' to serve them at {url}\n"
    return (
        "Prometheus metrics (a new token each run):\n"
        f'  curl -H "Authorization: Bearer {metrics.token}" {url}\n'
    )

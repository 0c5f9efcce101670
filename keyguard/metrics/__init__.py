"""Prometheus metrics for keyguard (`pip install 'keyguard[metrics]'`).

    from keyguard import KeyGuard
    from keyguard.metrics import PrometheusMetrics, metrics_app

    metrics = PrometheusMetrics()
    guard = KeyGuard(settings, observer=metrics)
    app.mount("/metrics", metrics_app(metrics, token=os.environ["METRICS_TOKEN"]))
    # and list "/metrics" in the middleware's public_paths: the token guards it, not an API key

`PrometheusMetrics` is an `Observer`: the guard reports to it, and it counts. Its metrics (the
README's "Metrics" section has the table) never carry a key, a key id or any other unbounded
label. `metrics_app` serves them in Prometheus's exposition format, behind a bearer token.
"""

try:
    import prometheus_client as _prometheus_client  # noqa: F401 - only to fail early and clearly
except ImportError as exc:  # pragma: no cover - the test extra installs it
    raise ImportError(
        "keyguard.metrics needs prometheus_client: pip install 'keyguard[metrics]'"
    ) from exc

from ._app import metrics_app
from ._prometheus import (
    FLUSH_LAG_BUCKETS,
    FLUSH_SIZE_BUCKETS,
    LAG_BUCKETS,
    LATENCY_BUCKETS,
    PrometheusMetrics,
)

__all__ = [
    "FLUSH_LAG_BUCKETS",
    "FLUSH_SIZE_BUCKETS",
    "LAG_BUCKETS",
    "LATENCY_BUCKETS",
    "PrometheusMetrics",
    "metrics_app",
]

"""The demo storefront that `keyguard demo` serves: a shop API behind keyguard, test keys included.

All in one event loop, as the CLI runs it:

    guard = KeyGuard.from_env()
    try:
        keys = await ensure_demo_keys(guard)
        print(demo_banner(keys, "http://127.0.0.1:8000", store=store_location(guard)))
        await serve(guard, host="127.0.0.1", port=8000)  # until Ctrl-C
    finally:
        await guard.stop()  # a no-op once the server's lifespan has stopped it
"""

from ._keys import DEMO_ACCOUNT, demo_banner, ensure_demo_keys, store_location
from ._metrics import METRICS_PATH, DemoMetrics, demo_metrics, metrics_lines
from ._serve import make_server, redact_keys_in_server_logs, serve
from .storefront import ADMIN_PATH, create_app

__all__ = [
    "ADMIN_PATH",
    "DEMO_ACCOUNT",
    "METRICS_PATH",
    "DemoMetrics",
    "create_app",
    "demo_banner",
    "demo_metrics",
    "ensure_demo_keys",
    "make_server",
    "metrics_lines",
    "redact_keys_in_server_logs",
    "serve",
    "store_location",
]

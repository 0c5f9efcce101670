"""prometheus_client is an extra: keyguard never imports it unless metrics are asked for, the
demo runs without it (and says how to turn metrics on), and `keyguard.metrics` says what to
install. Each check runs in a fresh interpreter, where the import can be blocked."""

from __future__ import annotations

import subprocess
import sys

# `None` in sys.modules makes `import prometheus_client` raise ImportError, as if uninstalled.
WITHOUT = "import sys; sys.modules['prometheus_client'] = None; "


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_keyguard_alone_never_imports_prometheus_client() -> None:
    code = "import sys, keyguard, keyguard.web, keyguard.demo\n"
    code += "sys.exit('prometheus_client' in sys.modules)"
    assert run(code).returncode == 0


def test_without_the_extra_the_demo_runs_without_metrics_and_says_so() -> None:
    code = WITHOUT + (
        "from keyguard.demo import demo_metrics, metrics_lines, create_app; "
        "from keyguard.testing import memory_guard; "
        "assert demo_metrics() is None; create_app(memory_guard()); "
        "print(metrics_lines('http://127.0.0.1:8000', None), end='')"
    )
    done = run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Metrics are off: pip install 'keyguard[metrics]' to serve them at"
        " http://127.0.0.1:8000/metrics\n"
    )


def test_without_the_extra_keyguard_metrics_says_what_to_install() -> None:
    done = run(WITHOUT + "import keyguard.metrics")
    assert done.returncode == 1
    assert "pip install 'keyguard[metrics]'" in done.stderr


def test_with_it_the_demo_serves_metrics_behind_a_new_token() -> None:
    from keyguard.demo import demo_metrics, metrics_lines
    from keyguard.metrics import PrometheusMetrics

    first, second = demo_metrics(), demo_metrics()
    assert first is not None and second is not None
    assert isinstance(first.observer, PrometheusMetrics)
    assert first.token != second.token and len(first.token) >= 32
    assert metrics_lines("http://h:1/", first) == (
        "Prometheus metrics (a new token each run):\n"
        f'  curl -H "Authorization: Bearer {first.token}" http://h:1/metrics\n'
    )

"""pytest fixtures for your app's tests. Enable them in your conftest.py:

    pytest_plugins = ["keyguard.testing.pytest_plugin"]

`keyguard_guard` is a fresh in-memory guard for each test; override `keyguard_settings` to
change its settings.
"""

from __future__ import annotations

from typing import Any

import pytest

from keyguard._guard import KeyGuard

from . import memory_guard

__all__ = ["keyguard_guard", "keyguard_settings"]


@pytest.fixture
def keyguard_settings() -> dict[str, Any]:
    """`Settings` fields for `keyguard_guard`, e.g. `{"environments": ("test", "live", "eu")}`."""
    return {}


@pytest.fixture
def keyguard_guard(keyguard_settings: dict[str, Any]) -> KeyGuard:
    """A guard on an in-memory store, not started: give it to your app, whose lifespan (run by
    `with TestClient(app)`) starts and stops it, or use `async with keyguard_guard:`."""
    return memory_guard(**keyguard_settings)

"""Without what network namespaces need, the many-hosts tests fail with one line naming what
is missing (never a skip, never a traceback from deep in `ip`)."""

from __future__ import annotations

import os
import shutil

import pytest

from . import _netns


def test_without_root_the_line_says_root_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    missing = _netns.require_namespaces()
    assert missing is not None and "root" in missing and "\n" not in missing


def test_without_ip_the_line_says_which_package_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(_netns, "_IP_PLACES", ())
    missing = _netns.require_namespaces()
    assert missing is not None and "iproute2" in missing and "\n" not in missing


def test_here_namespaces_can_be_made() -> None:
    """CI runs the tests as root: there, the many-hosts tests must run, not fail on this."""
    assert _netns.require_namespaces() is None

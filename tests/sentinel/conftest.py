"""Fixtures for Redis behind Sentinel: a group of a test's (or module's) own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import account, make_guard

from ._group import SentinelGroup

__all__ = ["account", "make_guard"]


def _group(work_dir: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(work_dir)
    try:
        group.start()
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    """A group shared by a module's tests, which must leave its master where it is."""
    yield from _group(tmp_path_factory.mktemp("sentinels"))


@pytest.fixture
def own_sentinels(tmp_path: Path) -> Iterator[SentinelGroup]:
    """A group for one test, which may fail its master over."""
    yield from _group(tmp_path)

"""Fixtures for the Redis Cluster tests: a real cluster of 3 masters and 3 replicas per module
(`_cluster.py`), named by the `redis+cluster://` URL keyguard reads; `redis_url` and
`redis_prefix` are the cluster's here, so the single-Redis tests reused here run on it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import account, make_guard

from ._cluster import Cluster, running_cluster

__all__ = ["account", "make_guard"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@pytest.fixture(scope="module")
def redis_url(cluster: Cluster) -> str:
    return cluster.url


@pytest.fixture(scope="module")
def redis_prefix(cluster: Cluster) -> str:
    """The cluster is this module's alone, and gone at its end: nothing to clean."""
    return f"keyguard-test-{os.getpid()}-{secrets.token_hex(4)}:"

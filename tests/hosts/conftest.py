"""Fixtures for the many-hosts tests: the fleet of three namespaced hosts (one per module), a
guard in the test's own process that mints keys, and an admin key that revokes them through a
host's management API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from keyguard import CreatedKey, KeyGuard, Settings

from ..e2e._servers import ROOT, clean_env
from ..e2e._trials import Trials
from ._fleet import PEPPER, Fleet, start_fleet
from ._netns import inside, remains, require_namespaces
from ._probe import Probe


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    missing = require_namespaces()
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    with contextlib.ExitStack() as stack:
        fleet = start_fleet(stack, tmp_path_factory.mktemp("hosts"))
        yield fleet
    left = remains(list(fleet.hosts.values()))
    assert not left, f"not removed: {left}"


@pytest.fixture
async def minter(fleet: Fleet) -> AsyncIterator[KeyGuard]:
    """Mints straight into the database (the root namespace reaches it directly)."""
    async with KeyGuard(Settings(database_url=fleet.database_url, pepper=PEPPER)) as guard:
        yield guard


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        yield client


@pytest.fixture
def trials(fleet: Fleet, http: httpx.AsyncClient, minter: KeyGuard) -> Trials:
    return Trials(fleet.servers, http, minter, PEPPER)


@pytest.fixture
async def admin(trials: Trials) -> CreatedKey:
    """A secret key of the trials' account: what a user revokes their keys with."""
    return await trials.mint()


@pytest.fixture
def probe_in_c(fleet: Fleet) -> Iterator[Probe]:
    """A client inside host C, for when C is cut off from the test's own."""
    probe = Probe(inside(fleet.hosts["c"]), ROOT, clean_env())
    try:
        yield probe
    finally:
        probe.close()

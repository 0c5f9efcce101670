"""A key's restrictions (permissions, allowed origins, allowed networks) through the lifecycle
and both real stores: validated on write, read back by every path the hot path and the edges
use, changed only by an audited update that reaches the change log, and kept by a roll. Refusals
of keys used from the wrong place are audited once per key and kind an hour."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keyguard import AuditEventType, KeyManager, ValidationError
from keyguard.adapters import SQLiteKeyStore
from keyguard.core import AuditQuery, ConflictError, KeyQuery
from keyguard.ports import KeyStore
from keyguard.services import RefusalLog

LIVE: dict[str, Any] = {"account": "acme", "environment": "live"}


async def test_restrictions_are_stored_and_read_back_by_every_path(
    manager: KeyManager, store: KeyStore
) -> None:
    created = await manager.create(
        name="orders bot",
        access="secret",
        permissions=["orders:write", "orders:read", "orders:read"],
        allowed_networks=["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
        **LIVE,
    )
    record = created.record
    assert record.permissions == frozenset({"orders:write", "orders:read"})
    assert record.allowed_networks == ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32")
    assert record.allowed_origins is None
    assert record.restricted
    by_digest = await store.find_by_digest(manager.hasher.digest(created.value))
    by_id = await manager.get(record.id)
    (listed,) = (await manager.list(KeyQuery(account="acme"))).items
    for read in (by_digest, by_id, listed):
        assert read is not None
        assert read.permissions == record.permissions
        assert read.allowed_networks == record.allowed_networks
        assert read.allowed_origins is None


async def test_an_unrestricted_key_reads_back_as_none_not_as_empty(manager: KeyManager) -> None:
    plain = await manager.create(name="plain", access="secret", **LIVE)
    nothing = await manager.create(name="nothing", access="secret", permissions=[], **LIVE)
    assert (await manager.get(plain.record.id)).permissions is None
    assert not plain.record.restricted
    assert (await manager.get(nothing.record.id)).permissions == frozenset()
    assert nothing.record.restricted


@pytest.mark.parametrize(
    ("access", "field", "value", "where"),
    [
        ("secret", "permissions", ["Orders:write"], "permissions[0]"),
        ("secret", "permissions", "orders:read", "permissions"),
        ("secret", "allowed_origins", ["https://shop.example.com"], "allowedOrigins"),
        ("publishable", "allowed_networks", ["10.0.0.0/8"], "allowedNetworks"),
        ("publishable", "allowed_origins", ["https://shop.example.com/cart"], "allowedOrigins[0]"),
        ("secret", "allowed_networks", ["10.0.0.1/8"], "allowedNetworks[0]"),
    ],
)
async def test_bad_restrictions_are_refused_and_nothing_is_stored(
    manager: KeyManager, access: str, field: str, value: object, where: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await manager.create(name="k", access=access, **LIVE, **{field: value})  # type: ignore[arg-type]
    assert [issue.field for issue in caught.value.issues] == [where]
    assert (await manager.list(KeyQuery(account="acme"))).items == []


async def test_restrict_is_audited_logged_for_other_processes_and_changes_only_what_it_names(
    manager: KeyManager, store: KeyStore
) -> None:
    created = await manager.create(
        name="widget", access="publishable", allowed_origins=["https://shop.example.com"], **LIVE
    )
    before = await store.last_change()
    changed = await manager.restrict(
        created.record.id, permissions=["products:read"], actor="ops", request_id="req_1"
    )
    assert changed.permissions == frozenset({"products:read"})
    assert changed.allowed_origins == ("https://shop.example.com",)
    assert changed.version > 0
    (logged,) = await store.read_changes(before)
    assert (logged.key_id, logged.event) == (created.record.id, "api_key.permissions_changed")
    assert logged.digest == manager.hasher.digest(created.value)
    events = (await manager.audit(AuditQuery(account="acme"))).items
    assert events[0].event is AuditEventType.PERMISSIONS_CHANGED
    assert (events[0].actor, events[0].request_id) == ("ops", "req_1")
    assert dict(events[0].data) == {
        "from": {"permissions": None},
        "to": {"permissions": ["products:read"]},
    }
    # The same restrictions again change nothing and log nothing.
    await manager.restrict(created.record.id, permissions=["products:read"])
    assert await store.last_change() == logged.seq
    # None lifts a restriction.
    lifted = await manager.restrict(created.record.id, allowed_origins=None)
    assert lifted.allowed_origins is None
    assert (await manager.get(created.record.id)).allowed_origins is None


async def test_restrict_validates_against_the_key_and_refuses_a_revoked_key(
    manager: KeyManager,
) -> None:
    created = await manager.create(name="k", access="secret", **LIVE)
    with pytest.raises(ValidationError):
        await manager.restrict(created.record.id, allowed_origins=["https://a.example"])
    await manager.revoke(created.record.id)
    with pytest.raises(ConflictError):
        await manager.restrict(created.record.id, permissions=["orders:read"])


async def test_a_roll_keeps_the_restrictions(manager: KeyManager) -> None:
    created = await manager.create(
        name="k",
        access="secret",
        permissions=["orders:*"],
        allowed_networks=["10.0.0.0/8"],
        **LIVE,
    )
    successor = await manager.roll(created.record.id)
    stored = await manager.get(successor.record.id)
    assert stored.permissions == frozenset({"orders:*"})
    assert stored.allowed_networks == ("10.0.0.0/8",)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, tzinfo=UTC)
        self.seconds = 1000.0

    def wall(self) -> datetime:
        return self.now

    def tick(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


async def _refusals(manager: KeyManager) -> list[AuditEventType]:
    events = (await manager.audit(AuditQuery(account="acme"))).items
    return [e.event for e in events if e.event.value.startswith("api_key.refused_")]


async def test_the_first_refusal_per_key_and_kind_an_hour_is_audited(
    manager: KeyManager, store: KeyStore
) -> None:
    created = await manager.create(name="k", access="secret", **LIVE)
    clock = Clock()
    log = RefusalLog(store, clock=clock.wall, monotonic=clock.tick)
    refused = AuditEventType.REFUSED_NETWORK
    for _ in range(5):
        log.note(created.record, refused, {"client": "203.0.113.9"}, "req_1")
    log.note(created.record, AuditEventType.REFUSED_BROWSER, {}, None)
    await log.drain()
    assert sorted(await _refusals(manager)) == sorted([refused, AuditEventType.REFUSED_BROWSER])
    clock.advance(3599)
    log.note(created.record, refused, {}, None)
    await log.drain()
    assert len(await _refusals(manager)) == 2
    clock.advance(2)
    log.note(created.record, refused, {}, None)
    await log.drain()
    assert (await _refusals(manager)).count(refused) == 2


async def test_processes_share_the_hour_through_the_store(
    manager: KeyManager, store: KeyStore
) -> None:
    created = await manager.create(name="k", access="secret", **LIVE)
    processes = [RefusalLog(store) for _ in range(4)]
    for log in processes:  # four processes, each seeing its first refusal at once
        log.note(created.record, AuditEventType.REFUSED_NETWORK, {}, None)
    await asyncio.gather(*(log.drain() for log in processes))
    assert await _refusals(manager) == [AuditEventType.REFUSED_NETWORK]


async def test_only_refusal_events_are_noted(manager: KeyManager, store: KeyStore) -> None:
    created = await manager.create(name="k", access="secret", **LIVE)
    with pytest.raises(ValueError, match="not a refusal"):
        RefusalLog(store).note(created.record, AuditEventType.REVOKED, {}, None)


async def test_a_store_that_cannot_take_the_row_is_asked_again_a_minute_later_not_each_time(
    manager: KeyManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    created = await manager.create(name="k", access="secret", **LIVE)
    closed = SQLiteKeyStore(str(tmp_path / "never-opened.db"))  # every transaction fails
    clock = Clock()
    log = RefusalLog(closed, clock=clock.wall, monotonic=clock.tick)
    refused = AuditEventType.REFUSED_NETWORK

    def tries() -> int:
        return sum("could not log" in r.getMessage() for r in caplog.records)

    for _ in range(5):
        log.note(created.record, refused, {}, None)
        await log.drain()
    assert tries() == 1
    clock.advance(61)
    log.note(created.record, refused, {}, None)
    await log.drain()
    assert tries() == 2

"""`LeakReports`, on both stores: a reported key is found under any pepper, revoked with its
leak and revoke in one transaction, and every listener hears of the revoke."""

from __future__ import annotations

import logging

import pytest

from keyguard.core import AuditEventType, AuditQuery, KeyHasher
from keyguard.ports import KeyStore
from keyguard.services import KeyChange, KeyManager, LeakAction, LeakReports


async def test_a_key_minted_under_an_old_pepper_is_found_and_revoked(store: KeyStore) -> None:
    old = KeyManager(store, hasher=KeyHasher("old-pepper"))
    created = await old.create(account="acme", name="k", environment="live", access="secret")
    heard: list[KeyChange] = []

    async def listen(change: KeyChange) -> None:
        heard.append(change)

    current = KeyManager(store, hasher=KeyHasher("new-pepper"), listeners=[listen])
    reports = LeakReports(current, previous_hashers=[KeyHasher("old-pepper")])
    found = await reports.report(created.value, where="https://x", source=None, request_id="r1")
    assert found == (created.record.id, "revoked")
    assert [c.event for c in heard] == [AuditEventType.REVOKED]
    assert (await current.get(created.record.id)).revoked_at is not None
    page = await current.audit(AuditQuery(key_id=created.record.id))
    assert [e.event for e in page.items][:2] == [AuditEventType.REVOKED, AuditEventType.LEAKED]
    assert {e.request_id for e in page.items[:2]} == {"r1"}


async def test_without_the_old_pepper_the_key_is_not_ours(store: KeyStore) -> None:
    old = KeyManager(store, hasher=KeyHasher("old-pepper"))
    created = await old.create(account="acme", name="k", environment="live", access="secret")
    reports = LeakReports(KeyManager(store, hasher=KeyHasher("new-pepper")))
    found = await reports.report(created.value, where=None, source=None, request_id=None)
    assert not found.ours
    assert (await old.get(created.record.id)).revoked_at is None


async def test_flagging_warns_with_the_key_id_never_the_value(
    manager: KeyManager, caplog: pytest.LogCaptureFixture
) -> None:
    created = await manager.create(account="acme", name="k", environment="test", access="secret")
    reports = LeakReports(manager, action=LeakAction.FLAG)
    with caplog.at_level(logging.WARNING):
        found = await reports.report(created.value, where="https://x", source=None, request_id=None)
    assert found == (created.record.id, "flagged")
    assert created.record.id in caplog.text
    assert created.value not in caplog.text
    assert (await manager.get(created.record.id)).revoked_at is None


def test_an_unknown_action_is_refused_at_construction(manager: KeyManager) -> None:
    with pytest.raises(ValueError, match="'delete'"):
        LeakReports(manager, action="delete")


async def test_a_place_no_store_can_hold_does_not_stop_the_revocation(
    manager: KeyManager,
) -> None:
    created = await manager.create(account="acme", name="k", environment="live", access="secret")
    where = f"https://x/\x00y\ud800z?k={created.value}&pad=" + "p" * 3000
    found = await LeakReports(manager).report(
        created.value, where=where, source="\x00", request_id=None
    )
    assert found == (created.record.id, "revoked")
    page = await manager.audit(AuditQuery(key_id=created.record.id, event=AuditEventType.LEAKED))
    stored = page.items[0].data
    assert stored["url"].startswith("https://x/\ufffdy\ufffdz?k=sk_live_…")
    assert created.value not in stored["url"]
    assert len(stored["url"]) == 2048
    assert stored["source"] == "\ufffd"

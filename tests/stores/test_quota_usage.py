"""The store's copy of a quota's count, on both stores: written back only under the setting it
was counted for, and only forward (less left, or a later refill), whatever order reports come in."""

from __future__ import annotations

import dataclasses

from keyguard.core import Quota
from keyguard.ports import KeyStore
from keyguard.services import KeyManager


async def quota_of(store: KeyStore, key_id: str) -> Quota:
    record = await store.get_key(key_id)
    assert record is not None and record.quota is not None
    return record.quota


async def test_reports_move_the_count_forward_only(store: KeyStore, manager: KeyManager) -> None:
    created = await manager.create(
        account="a",
        name="q",
        environment="live",
        access="secret",
        quota={"remaining": 100, "refillAmount": 100, "refillInterval": "1d"},
    )
    key_id, setting = created.record.id, created.record.quota
    assert setting is not None
    spent = dataclasses.replace(setting, remaining=40)
    await store.record_quota_usage([(key_id, spent)])
    assert await quota_of(store, key_id) == spent
    await store.record_quota_usage([(key_id, dataclasses.replace(setting, remaining=70))])
    assert (await quota_of(store, key_id)).remaining == 40  # an older report: not taken
    refill = dataclasses.replace(
        setting, remaining=99, refilled_at_ms=setting.refilled_at_ms + 86_400_000
    )
    await store.record_quota_usage([(key_id, refill)])
    assert await quota_of(store, key_id) == refill  # a later refill: more left is right


async def test_a_report_of_an_older_setting_is_dropped(
    store: KeyStore, manager: KeyManager
) -> None:
    created = await manager.create(
        account="a", name="q", environment="live", access="secret", quota={"remaining": 10}
    )
    old = created.record.quota
    assert old is not None
    reset = await manager.limit(created.record.id, quota={"remaining": 10})
    assert reset.quota is not None and reset.quota.set_at_ms > old.set_at_ms
    await store.record_quota_usage([(created.record.id, dataclasses.replace(old, remaining=0))])
    assert await quota_of(store, created.record.id) == reset.quota
    lifted = await manager.limit(created.record.id, quota=None)
    assert lifted.quota is None
    await store.record_quota_usage([(created.record.id, reset.quota)])
    assert (await store.get_key(created.record.id)).quota is None  # type: ignore[union-attr]


async def test_a_key_without_a_quota_and_an_unknown_key_are_left_alone(
    store: KeyStore, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="q", environment="live", access="secret")
    report = Quota(5, None, None, 1, 1)
    await store.record_quota_usage([(created.record.id, report), ("key_missing", report)])
    assert (await store.get_key(created.record.id)).quota is None  # type: ignore[union-attr]


async def test_a_roll_chain_is_counted_as_its_first_key(
    store: KeyStore, manager: KeyManager
) -> None:
    first = await manager.create(account="a", name="q", environment="live", access="secret")
    second = await manager.roll(first.record.id)
    third = await manager.roll(second.record.id)
    for created in (second, third):
        stored = await store.get_key(created.record.id)
        assert stored is not None and stored.counted_as == first.record.id
    assert (await store.get_key(first.record.id)).counted_as is None  # type: ignore[union-attr]

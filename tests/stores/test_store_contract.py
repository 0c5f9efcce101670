"""The contract every KeyStore adapter keeps, run through the lifecycle API against the real
SQLite and the real PostgreSQL (the `store` fixture is parametrized over both)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keyguard import (
    Access,
    AccountSettings,
    AuditEventType,
    AuditQuery,
    ConflictError,
    KeyChange,
    KeyHasher,
    KeyManager,
    KeyQuery,
    KeyRecord,
    KeySort,
    KeyStatus,
    NotFoundError,
    ValidationError,
)
from keyguard.core import created_view, detail_view, utcnow
from keyguard.ports import KeyStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(store: KeyStore, hasher: KeyHasher, clock: Clock) -> KeyManager:
    return KeyManager(store, hasher=hasher, clock=clock)


async def mint(m: KeyManager, name: str = "ci", **kw: object) -> str:
    args: dict[str, object] = {"account": "acme", "environment": "live", "access": "secret"}
    args.update(kw)
    created = await m.create(name=name, **args)  # type: ignore[arg-type]
    return created.record.id


async def test_create_returns_the_value_once_and_stores_only_its_digest(
    manager: KeyManager, store: KeyStore
) -> None:
    created = await manager.create(
        account="acme",
        name="  Production CI  ",
        environment="live",
        access="secret",
        owner="u1",
        metadata={"team": "ops"},
    )
    record = created.record
    assert (record.name, record.prefix, record.last4) == (
        "Production CI",
        "sk_live_",
        created.value[-4:],
    )
    assert (record.access, record.owner, dict(record.metadata)) == (
        Access.SECRET,
        "u1",
        {"team": "ops"},
    )
    assert await store.find_by_digest(manager.hasher.digest(created.value)) == record
    assert await store.find_by_digest(KeyHasher().digest(created.value)) is None
    assert created.value not in repr(created) and created.value not in repr(record)
    assert "value" not in detail_view(record, utcnow()) and "value" not in repr(record)
    assert created_view(created, utcnow())["value"] == created.value


async def test_validation_names_the_field(manager: KeyManager) -> None:
    cases: dict[str, dict[str, Any]] = {
        "name": {"name": "   "},
        "account": {"account": ""},
        "environment": {"environment": "prod"},
        "access": {"access": "admin"},
        "metadata": {"metadata": {"x": "y" * 5000}},
        "expiresAt": {"expires_at": datetime(2030, 1, 1)},  # no time zone
    }
    for field, override in [*cases.items(), ("name", {"name": "x" * 101})]:
        with pytest.raises(ValidationError) as caught:
            await mint(manager, **{"name": "ok", **override})
        assert [i.field for i in caught.value.issues] == [field]
    assert (await manager.list(KeyQuery())).items == []
    assert (await manager.audit(AuditQuery())).items == []


async def test_a_name_of_100_characters_is_accepted(manager: KeyManager) -> None:
    key_id = await mint(manager, "n" * 100)
    assert (await manager.get(key_id)).name == "n" * 100


async def test_accounts_never_see_each_others_keys(manager: KeyManager) -> None:
    mine = await mint(manager, account="acme")
    await mint(manager, account="other")
    with pytest.raises(NotFoundError):
        await manager.get(mine, account="other")
    with pytest.raises(NotFoundError):
        await manager.revoke(mine, account="other")
    assert [r.id for r in (await manager.list(KeyQuery(account="acme"))).items] == [mine]
    assert (await manager.get(mine, account="acme")).revoked_at is None


async def test_rename_writes_one_audit_row_and_a_same_name_rename_writes_none(
    manager: KeyManager,
) -> None:
    key_id = await mint(manager, "old")
    renamed = await manager.rename(key_id, " new ", actor="cli", request_id="req_1")
    await manager.rename(key_id, "new")
    assert renamed.name == "new" and (await manager.get(key_id)).name == "new"
    events = (await manager.audit(AuditQuery(key_id=key_id, event=AuditEventType.RENAMED))).items
    assert len(events) == 1
    assert (events[0].actor, events[0].request_id, dict(events[0].data)) == (
        "cli",
        "req_1",
        {"from": "old", "to": "new"},
    )


async def test_revoke_is_immediate_irreversible_and_logged_once(
    timed: KeyManager, clock: Clock
) -> None:
    created = await timed.create(account="acme", name="k", environment="test", access="secret")
    revoked = await timed.revoke(created.record.id)
    clock.advance(seconds=5)
    again = await timed.revoke(created.record.id)
    assert revoked.revoked_at == clock.now - timedelta(seconds=5) == again.revoked_at
    assert revoked.status(clock.now) is KeyStatus.REVOKED
    stored = await timed.store.find_by_digest(timed.hasher.digest(created.value))
    assert stored is not None and not stored.is_valid(clock.now)
    revokes = await timed.audit(AuditQuery(event=AuditEventType.REVOKED))
    assert [e.key_id for e in revokes.items] == [created.record.id]


async def test_delete_only_after_revoke(manager: KeyManager) -> None:
    key_id = await mint(manager)
    with pytest.raises(ConflictError):
        await manager.delete(key_id)
    assert (await manager.get(key_id)).revoked_at is None
    await manager.revoke(key_id)
    deleted = await manager.delete(key_id)
    assert deleted.id == key_id
    with pytest.raises(NotFoundError):
        await manager.get(key_id)
    with pytest.raises(NotFoundError):
        await manager.delete(key_id)
    events = [e.event for e in (await manager.audit(AuditQuery(key_id=key_id))).items]
    assert events == [AuditEventType.DELETED, AuditEventType.REVOKED, AuditEventType.CREATED]


async def test_roll_mints_a_successor_and_expires_the_old_key_after_the_grace(
    timed: KeyManager, clock: Clock
) -> None:
    old = await timed.create(
        account="acme", name="hook", environment="live", access="publishable", owner="u9"
    )
    new = await timed.roll(old.record.id, grace=timedelta(hours=2), actor="key_x")
    r = new.record
    assert (r.name, r.owner, r.environment, r.access) == ("hook", "u9", "live", Access.PUBLISHABLE)
    assert r.id != old.record.id and new.value != old.value
    previous = await timed.get(old.record.id)
    assert previous.replaced_by == r.id
    assert previous.expires_at == clock.now + timedelta(hours=2)
    assert previous.status(clock.now) is KeyStatus.ACTIVE
    clock.advance(hours=2)
    assert previous.status(clock.now) is KeyStatus.EXPIRED
    with pytest.raises(ConflictError):
        await timed.roll(old.record.id)
    events = {(e.event, e.key_id) for e in (await timed.audit(AuditQuery())).items}
    assert (AuditEventType.ROLLED, old.record.id) in events
    assert (AuditEventType.CREATED, r.id) in events


async def test_roll_validates_the_grace_and_refuses_revoked_keys(manager: KeyManager) -> None:
    key_id = await mint(manager)
    for grace in (timedelta(seconds=-1), timedelta(days=31)):
        with pytest.raises(ValidationError):
            await manager.roll(key_id, grace=grace)
    await manager.revoke(key_id)
    with pytest.raises(ConflictError):
        await manager.roll(key_id)


async def test_one_active_secret_key_per_owner_when_the_account_asks(manager: KeyManager) -> None:
    await manager.set_account_settings(AccountSettings("acme", one_secret_key_per_owner=True))
    first = await mint(manager, owner="alice")
    with pytest.raises(ConflictError):
        await mint(manager, owner="alice")
    await mint(manager, owner="bob")
    await mint(manager, owner="alice", access="publishable")
    await mint(manager, owner="alice", account="free-for-all")
    await mint(manager, owner="alice", account="free-for-all")
    await manager.revoke(first)
    await mint(manager, owner="alice")


async def test_one_secret_rule_holds_under_concurrent_creates(manager: KeyManager) -> None:
    await manager.set_account_settings(AccountSettings("acme", one_secret_key_per_owner=True))
    results = await asyncio.gather(
        *(mint(manager, f"k{i}", owner="carol") for i in range(8)), return_exceptions=True
    )
    assert sum(isinstance(r, str) for r in results) == 1
    assert all(isinstance(r, (str, ConflictError)) for r in results)


async def test_a_failed_transaction_leaves_no_key_and_no_audit_row(
    manager: KeyManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyguard.adapters import _sql_transaction

    async def broken(self: object, event: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_sql_transaction.SqlTransaction, "insert_audit", broken)
    with pytest.raises(RuntimeError):
        await mint(manager)
    monkeypatch.undo()
    assert (await manager.list(KeyQuery())).items == []
    assert (await manager.audit(AuditQuery())).items == []


async def test_list_filters_by_environment_access_status_and_search(
    timed: KeyManager, clock: Clock
) -> None:
    a = await mint(timed, "Alpha_one", environment="test")
    b = await mint(timed, "beta 100%", access="publishable")
    c = await mint(timed, "ALPHA two", expires_at=clock.now + timedelta(minutes=1))
    d = await mint(timed, "gamma")
    await timed.revoke(d)
    clock.advance(minutes=2)

    async def ids(**kw: object) -> set[str]:
        return {r.id for r in (await timed.list(KeyQuery(account="acme", **kw))).items}  # type: ignore[arg-type]

    assert await ids(environment="test") == {a}
    assert await ids(access=Access.PUBLISHABLE) == {b}
    assert await ids(status=KeyStatus.ACTIVE) == {a, b}
    assert await ids(status=KeyStatus.EXPIRED) == {c}
    assert await ids(status=KeyStatus.REVOKED) == {d}
    assert await ids(search="alpha") == {a, c}
    assert await ids(search="100%") == {b}
    assert await ids(search="a_o") == {a}
    assert await ids(search="%") == {b}


@pytest.mark.parametrize("sort", list(KeySort))
async def test_pagination_visits_every_key_once_in_sort_order(
    timed: KeyManager, clock: Clock, sort: KeySort
) -> None:
    made = []
    for i in range(7):
        made.append(await mint(timed, f"key {(i * 3) % 7}"))
        clock.advance(seconds=1 if i % 3 else 0)  # ties in createdAt too
    await timed.store.record_last_used([(made[1], clock.now), (made[4], clock.now)])
    everything = (await timed.list(KeyQuery(account="acme", sort=sort, limit=100))).items
    seen: list[KeyRecord] = []
    cursor = None
    while True:
        page = await timed.list(KeyQuery(account="acme", sort=sort, limit=3, cursor=cursor))
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        await mint(timed, "zz added meanwhile", account="elsewhere")
    assert [r.id for r in seen] == [r.id for r in everything]
    assert sorted(r.id for r in seen) == sorted(made)
    values = [_sort_value(r, sort) for r in seen]
    assert values == sorted(values, reverse=sort.descending)


def _sort_value(record: KeyRecord, sort: KeySort) -> Any:
    value = getattr(
        record,
        {"createdAt": "created_at", "name": "name", "lastUsedAt": "last_used_at"}[sort.field],
    )
    return value or datetime.min.replace(tzinfo=UTC)


async def test_pagination_is_stable_while_keys_are_created_and_revoked(
    timed: KeyManager, clock: Clock
) -> None:
    made = []
    for i in range(6):
        made.append(await mint(timed, f"k{i}"))
        clock.advance(seconds=1)
    first = await timed.list(KeyQuery(account="acme", limit=3))
    await mint(timed, "newest")
    await timed.revoke(made[0])
    second = await timed.list(KeyQuery(account="acme", limit=3, cursor=first.next_cursor))
    shown = [r.id for r in [*first.items, *second.items]]
    assert shown == list(reversed(made))


async def test_a_garbled_cursor_is_a_validation_error_and_any_other_a_place(
    manager: KeyManager,
) -> None:
    await mint(manager)
    await mint(manager)
    page = await manager.list(KeyQuery(limit=1))
    assert page.next_cursor is not None
    audit = await manager.audit(AuditQuery(limit=1))
    assert audit.next_cursor is not None
    for cursor in ("garbage!", audit.next_cursor):
        with pytest.raises(ValidationError) as caught:
            await manager.list(KeyQuery(limit=1, cursor=cursor, sort=KeySort.NAME))
        assert caught.value.issues[0].field == "cursor"
    with pytest.raises(ValidationError):
        await manager.audit(AuditQuery(limit=1, cursor=page.next_cursor))
    # A cursor of one order is a place in another: no error, a page.
    assert await manager.list(KeyQuery(limit=1, cursor=page.next_cursor, sort=KeySort.NAME))
    with pytest.raises(ValidationError):
        await manager.list(KeyQuery(limit=0))


async def test_last_used_is_batched_and_never_moves_backwards(
    manager: KeyManager, store: KeyStore
) -> None:
    a, b = await mint(manager, "a"), await mint(manager, "b")
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    await store.record_last_used([(a, t0), (a, t0 + timedelta(seconds=3)), (b, t0)])
    await store.record_last_used([(a, t0 + timedelta(seconds=1)), ("key_unknown", t0)])
    assert (await manager.get(a)).last_used_at == t0 + timedelta(seconds=3)
    assert (await manager.get(b)).last_used_at == t0
    await store.record_last_used([])


async def test_last_used_batches_larger_than_one_statement_chunk(
    manager: KeyManager, store: KeyStore
) -> None:
    ids = [await mint(manager, f"k{i}") for i in range(3)]
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    batch = [(f"key_missing_{i}", t0) for i in range(1200)] + [(k, t0) for k in ids]
    await store.record_last_used(batch)
    assert [(await manager.get(k)).last_used_at for k in ids] == [t0] * 3


async def test_audit_log_filters_and_pages_newest_first(timed: KeyManager, clock: Clock) -> None:
    key_id = await mint(timed, "a")
    since = clock.now + timedelta(seconds=1)
    clock.advance(seconds=1)
    await timed.rename(key_id, "b")
    await timed.revoke(key_id)
    await mint(timed, "other", account="beta")
    mine = await timed.audit(AuditQuery(account="acme"))
    assert [e.event for e in mine.items] == [
        AuditEventType.REVOKED,
        AuditEventType.RENAMED,
        AuditEventType.CREATED,
    ]
    recent = await timed.audit(AuditQuery(account="acme", since=since))
    assert len(recent.items) == 2
    # A year before 1000 is still before 2026 (SQLite compares text: years have 4 digits).
    ancient = datetime(999, 6, 1, tzinfo=UTC)
    assert len((await timed.audit(AuditQuery(account="acme", since=ancient))).items) == 3
    first = await timed.audit(AuditQuery(account="acme", limit=2))
    rest = await timed.audit(AuditQuery(account="acme", limit=2, cursor=first.next_cursor))
    assert [e.id for e in [*first.items, *rest.items]] == [e.id for e in mine.items]
    assert rest.next_cursor is None
    assert all(e.account == "acme" for e in mine.items)


async def test_listeners_hear_of_committed_changes_with_the_digest(manager: KeyManager) -> None:
    heard: list[KeyChange] = []

    async def listen(change: KeyChange) -> None:
        heard.append(change)

    manager.add_listener(listen)
    created = await manager.create(account="acme", name="k", environment="test", access="secret")
    await manager.revoke(created.record.id)
    await manager.revoke(created.record.id)
    await manager.delete(created.record.id)
    digest = manager.hasher.digest(created.value)
    assert [(c.event, c.digest) for c in heard] == [
        (AuditEventType.REVOKED, digest),
        (AuditEventType.DELETED, digest),
    ]


async def test_queries_take_plain_strings_for_their_enums(manager: KeyManager) -> None:
    kept = await mint(manager, "kept")
    await manager.revoke(await mint(manager, "gone"))
    page = await manager.list(KeyQuery(status="active", sort="name", access="secret"))  # type: ignore[arg-type]
    assert [r.id for r in page.items] == [kept]
    events = await manager.audit(AuditQuery(event="api_key.revoked"))  # type: ignore[arg-type]
    assert len(events.items) == 1
    with pytest.raises(ValidationError) as caught:
        KeyQuery(status="deleted")  # type: ignore[arg-type]
    assert caught.value.issues[0].field == "status"

"""Mint keys, then look for any trace of their values where they must never be: the SQLite
file, every Postgres table, the audit log and the records' JSON."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from keyguard import AuditQuery, KeyHasher, KeyManager, KeyQuery, PostgresKeyStore, SQLiteKeyStore
from keyguard.core import audit_view, detail_view, utcnow


async def _mint_everything(manager: KeyManager) -> list[str]:
    values = []
    for env in ("test", "live"):
        for access in ("secret", "publishable"):
            created = await manager.create(
                account="acme", name=f"{env} {access}", environment=env, access=access
            )
            values.append(created.value)
    rolled = await manager.roll((await manager.list(KeyQuery())).items[0].id)
    values.append(rolled.value)
    return values


def _fragments(value: str) -> list[str]:
    # The whole value, its random part, and any 12 characters of it.
    body = value.split("_")[2]
    return [value, body[:32], *(body[i : i + 12] for i in range(0, len(body) - 12, 6))]


async def _listed(manager: KeyManager) -> str:
    now = utcnow()
    keys = [detail_view(r, now) for r in (await manager.list(KeyQuery(limit=100))).items]
    audit = [audit_view(e) for e in (await manager.audit(AuditQuery(limit=100))).items]
    return json.dumps([keys, audit])


async def test_no_value_in_the_sqlite_file(tmp_path: Path) -> None:
    store = SQLiteKeyStore(str(tmp_path / "k.db"))
    await store.open()
    manager = KeyManager(store, hasher=KeyHasher("p"))
    values = await _mint_everything(manager)
    listed = await _listed(manager)
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # noqa: ASYNC240 - a test
    assert raw  # the database really is there
    for value in values:
        for fragment in _fragments(value):
            assert fragment.encode() not in raw
            assert fragment not in listed


async def test_no_value_in_any_postgres_table(pg_database_url: str) -> None:
    store = PostgresKeyStore(pg_database_url)
    await store.open()
    async with store._session() as runner:
        await runner.execute("TRUNCATE keyguard_keys, keyguard_audit_log, keyguard_accounts")
    manager = KeyManager(store, hasher=KeyHasher("p"))
    values = await _mint_everything(manager)
    listed = await _listed(manager)
    await store.close()
    conn = await asyncpg.connect(pg_database_url)
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'keyguard_%'"
            )
        ]
        rows = [row for table in tables for row in await conn.fetch(f"SELECT * FROM {table}")]
        dump = "".join(str(dict(row)) for row in rows)
    finally:
        await conn.close()
    assert "keyguard_keys" in tables and len(dump) > 500
    for value in values:
        for fragment in _fragments(value):
            assert fragment not in dump
            assert fragment not in listed

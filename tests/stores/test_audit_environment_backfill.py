"""Migration 0003 gives events written before it the environment of their key: from the key,
or for a deleted key from its creation event. Run against rows written as before it."""

from __future__ import annotations

from importlib import resources

from keyguard import AuditQuery, KeyManager
from keyguard.ports import KeyStore


def _backfill_statements(dialect: str) -> list[str]:
    text = (
        resources.files("keyguard.adapters.migrations")
        .joinpath(dialect, "0003_audit_environment.sql")
        .read_text()
    )
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip().startswith("UPDATE")]


async def test_old_events_get_their_keys_environment(store: KeyStore, manager: KeyManager) -> None:
    account = "backfill"
    kept = await manager.create(account=account, name="kept", environment="live", access="secret")
    gone = await manager.create(account=account, name="gone", environment="test", access="secret")
    await manager.revoke(gone.record.id)
    await manager.delete(gone.record.id)
    dialect = "sqlite" if type(store).__name__.startswith("SQLite") else "postgres"
    async with store._session() as runner:  # type: ignore[attr-defined]
        await runner.execute(
            "UPDATE keyguard_audit_log SET environment = NULL WHERE account = $1", account
        )
        for statement in _backfill_statements(dialect):
            await runner.execute(statement)
    events = (await manager.audit(AuditQuery(account=account, limit=100))).items
    assert {(e.key_id, e.environment) for e in events} == {
        (kept.record.id, "live"),
        (gone.record.id, "test"),
    }
    assert len(events) == 4  # created twice, revoked, deleted

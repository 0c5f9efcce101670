"""keyguard through a real PgBouncer in transaction pooling mode (Debian's, 1.18: no
protocol-level prepared statements), in front of the machine's PostgreSQL.

`store` is overridden here: the contract suites imported into this directory run unchanged
against a PostgreSQL store reached through PgBouncer with `statement_cache_size=0`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from keyguard import PostgresKeyStore
from tests.conftest import SERVER_URL

from ._pgbouncer import PgBouncer, pgbouncer_binary


@pytest.fixture(scope="session")
def pgbouncer() -> Iterator[PgBouncer]:
    bouncer = PgBouncer(SERVER_URL, pgbouncer_binary())
    yield bouncer
    bouncer.stop()


@pytest.fixture
def bounced_url(pgbouncer: PgBouncer, pg_database_url: str) -> str:
    """This run's migrated database, reached through PgBouncer."""
    return pgbouncer.url(pg_database_url)


@pytest.fixture
async def store(bounced_url: str) -> AsyncIterator[PostgresKeyStore]:
    store = PostgresKeyStore(bounced_url, statement_cache_size=0)
    await store.open()
    async with store._session() as runner:
        await runner.execute(
            "TRUNCATE keyguard_keys, keyguard_audit_log, keyguard_accounts, keyguard_changes"
        )
    yield store
    await store.close()

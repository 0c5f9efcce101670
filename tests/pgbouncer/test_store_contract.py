"""The store contract, unchanged, through PgBouncer (the `store` fixture of this directory)."""

from keyguard import PostgresKeyStore
from keyguard.adapters._postgres_pooler import through_pooler
from tests.stores.test_store_contract import *  # noqa: F403


async def test_the_store_here_goes_through_pgbouncer(store: PostgresKeyStore) -> None:
    async with store._connection() as conn:
        assert await through_pooler(conn)

"""Layer 3, the adapters: SQLite (embedded default), PostgreSQL (asyncpg) and Redis."""

from ._postgres import PostgresKeyStore, mask_url
from ._sqlite import SQLiteKeyStore
from ._store_url import DEFAULT_DATABASE_URL, store_from_url

__all__ = [
    "DEFAULT_DATABASE_URL",
    "PostgresKeyStore",
    "SQLiteKeyStore",
    "mask_url",
    "store_from_url",
]

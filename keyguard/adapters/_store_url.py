"""Pick the store adapter for a database URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._postgres import PostgresKeyStore
from ._sqlite import SQLiteKeyStore
from ._urls import mask_url

__all__ = ["DEFAULT_DATABASE_URL", "store_from_url"]

DEFAULT_DATABASE_URL = "sqlite:///keyguard.db"


def store_from_url(
    url: str,
    *,
    statement_cache_size: int | None = None,
    pool_size: int | None = None,
    **options: Any,
) -> SQLiteKeyStore | PostgresKeyStore:
    """The adapter for `url`; `statement_cache_size` and `pool_size` (the most connections
    the pool opens) apply to PostgreSQL only."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return SQLiteKeyStore.from_url(url, **options)
    if scheme in {"postgres", "postgresql"}:
        if statement_cache_size is not None:
            options["statement_cache_size"] = statement_cache_size
        if pool_size is not None:
            options["max_size"] = pool_size
            options["min_size"] = min(options.get("min_size", 1), pool_size)
        return PostgresKeyStore.from_url(url, **options)
    # A libpq "host=... password=..." string is no URL mask_url can read: name none of it.
    shown = f" {mask_url(url)!r}" if "://" in url else ""
    raise ValueError(f"unsupported database URL{shown}: use sqlite:///path.db or postgresql://...")

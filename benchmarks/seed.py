"""The keys the runs look up: minted through keyguard where one key is measured, bulk-loaded with
COPY where the count is what matters (100k or 1M rows would take minutes through `create`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg

from keyguard import Access, KeyFormat, KeyGuard, KeyHasher, Settings
from keyguard.core import BASE62_ALPHABET, RANDOM_LENGTH

__all__ = ["count_keys", "fill_keys", "insert_real_keys", "mint_key"]

ACCOUNT = "bench"
_COLUMNS = [
    "id",
    "account",
    "name",
    "environment",
    "access",
    "prefix",
    "last4",
    "digest",
    "hash_version",
    "metadata",
    "created_at",
]
_CHUNK = 50_000


async def mint_key(database_url: str, pepper: str, *, name: str = "bench") -> tuple[str, str]:
    """A secret test key made by keyguard's own manager: (key id, value)."""
    guard = KeyGuard(Settings(database_url=database_url, pepper=pepper))
    async with guard:
        created = await guard.manager.create(
            account=ACCOUNT, name=name, environment="test", access=Access.SECRET
        )
    return created.record.id, created.value


def _fast_value(key_format: KeyFormat) -> str:
    # Not `generate` (32 calls to secrets.choice per key): these keys guard nothing, and the
    # slight bias of `byte % 62` does not matter to a lookup.
    random_part = "".join(BASE62_ALPHABET[b % 62] for b in os.urandom(RANDOM_LENGTH))
    return key_format.compose(Access.SECRET, "test", random_part)


def _rows(
    start: int, digests: list[bytes], version: str, now: datetime
) -> Iterator[tuple[object, ...]]:
    for offset, digest in enumerate(digests):
        n = start + offset
        yield (
            f"key_bench{n:010d}",
            ACCOUNT,
            f"bench {n}",
            "test",
            "secret",
            "sk_test_",
            "abcd",
            digest,
            version,
            "{}",
            now,
        )


async def _copy(conn: asyncpg.Connection, start: int, digests: list[bytes], version: str) -> None:
    rows = list(_rows(start, digests, version, datetime.now(UTC)))
    await conn.copy_records_to_table("keyguard_keys", records=rows, columns=_COLUMNS)


async def count_keys(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM keyguard_keys"))
    finally:
        await conn.close()


async def fill_keys(database_url: str, total: int, pepper: str) -> int:
    """Add random-digest rows until the store holds `total` keys; returns how many it holds."""
    version = KeyHasher(pepper).version
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        have = int(await conn.fetchval("SELECT count(*) FROM keyguard_keys"))
        while have < total:
            batch = min(_CHUNK, total - have)
            await _copy(conn, 10**9 + have, [os.urandom(32) for _ in range(batch)], version)
            have += batch
        await conn.execute("ANALYZE keyguard_keys")
    finally:
        await conn.close()
    return have


async def insert_real_keys(database_url: str, count: int, pepper: str, start: int) -> list[str]:
    """`count` valid keys (their digests stored), for runs that need many distinct real keys."""
    key_format, hasher = KeyFormat(), KeyHasher(pepper)
    values = [_fast_value(key_format) for _ in range(count)]
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        await _copy(conn, start, [hasher.digest(v) for v in values], hasher.version)
    finally:
        await conn.close()
    return values

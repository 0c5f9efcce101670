"""Many keys in the store, fast: rows shaped exactly as `KeyManager.create` writes them (the
same columns and values an unrestricted secret key gets: `KeyTransaction.insert_key`), each
digest the real keyed BLAKE3 digest of a real, well-formed key value, so a lookup of any of them
takes the path a real key's does. Written with COPY in chunks, under the run's own database.

The table is analyzed afterwards (the seeding time includes it), as autovacuum would soon do.
Only a few values are kept (spread evenly over each chunk): the ones the run looks up. The rest
are thrown away once digested, as the store itself never holds a value.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from keyguard import Access, KeyHasher
from keyguard.core import BASE62_ALPHABET, RANDOM_LENGTH, KeyFormat
from keyguard.core._ids import new_id

__all__ = ["CHUNK", "COLUMNS", "Seeded", "seed"]

ACCOUNT = "bench-scale"
CHUNK = 50_000  # rows per COPY: a deadline is checked between chunks
COLUMNS = (
    "id", "account", "owner", "name", "environment", "access", "prefix", "last4", "metadata",
    "created_at", "version", "digest", "hash_version",
)  # fmt: skip
# Random bytes to base62 characters in one C call (the small bias of `% 62` changes nothing a
# lookup does: every value is still a distinct, well-formed key with its checksum).
_TO_BASE62 = bytes.maketrans(
    bytes(range(256)), "".join(BASE62_ALPHABET[b % 62] for b in range(256)).encode()
)
_FORMAT = KeyFormat()
_METADATA = json.dumps({})  # what insert_key writes for a key made without metadata


@dataclass
class Seeded:
    """What a seeding left: how many rows, how long it took, the values kept to look up."""

    rows: int = 0
    seconds: float = 0.0
    samples: list[str] = field(default_factory=list)
    cut: str = ""  # why it stopped short of what was asked ("" if it did not)


def _chunk(hasher: KeyHasher, n: int, keep: int) -> tuple[list[tuple[object, ...]], list[str]]:
    """`n` rows of fresh secret test keys, and `keep` of their values, evenly spread."""
    randoms = os.urandom(RANDOM_LENGTH * n).translate(_TO_BASE62).decode()
    created = dt.datetime.now(dt.UTC)
    step = max(1, n // max(1, keep))
    rows: list[tuple[object, ...]] = []
    kept: list[str] = []
    for i in range(n):
        value = _FORMAT.compose(Access.SECRET, "test", randoms[i * 32 : (i + 1) * 32])
        parsed = _FORMAT.parse(value)
        rows.append(
            (new_id("key_"), ACCOUNT, None, f"scale-{i}", "test", "secret", parsed.prefix,
             parsed.last4, _METADATA, created, 0, hasher.digest(value), hasher.version)
        )  # fmt: skip
        if i % step == 0 and len(kept) < keep:
            kept.append(value)
    return rows, kept


async def seed(
    conn: asyncpg.Connection,
    hasher: KeyHasher,
    n: int,
    *,
    keep: int,
    deadline: float,
    progress: Callable[[str], None] = lambda _: None,
) -> Seeded:
    """Add `n` keys to `keyguard_keys`, chunk by chunk; stops (and says so in `cut`) before a
    chunk the rate so far says would end past the monotonic `deadline`."""
    done = Seeded()
    start = time.monotonic()
    while done.rows < n:
        size = min(CHUNK, n - done.rows)
        if done.rows:
            rate = done.rows / (time.monotonic() - start)
            if time.monotonic() + size / rate > deadline:
                done.cut = f"stopped at {done.rows} of {n} keys: the time budget ran out"
                break
        share = max(1, keep * size // n)
        rows, kept = _chunk(hasher, size, share)
        await conn.copy_records_to_table("keyguard_keys", records=rows, columns=COLUMNS)
        done.rows += size
        done.samples += kept
        progress(f"seeded {done.rows}/{n} keys ({time.monotonic() - start:.1f} s)")
    await conn.execute("ANALYZE keyguard_keys")  # as autovacuum soon would on a live table
    done.seconds = time.monotonic() - start
    return done

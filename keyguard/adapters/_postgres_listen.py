"""Change notifications from PostgreSQL: LISTEN on a connection of its own.

A wake-up only: whoever is woken reads the change log from the last change it saw, so a
notification lost with a dropped connection costs latency, never a change. Not available
behind PgBouncer in transaction mode (readers then poll the log alone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from ._postgres_errors import UNAVAILABLE_ERRORS, describe
from ._postgres_pooler import through_pooler
from ._urls import mask_url

__all__ = ["CHANGES_CHANNEL", "listen_for_changes"]

logger = logging.getLogger(__name__)
CHANGES_CHANNEL = "keyguard_changes"
_CHECK_EVERY = 5.0  # seconds between checks that the connection still answers


async def listen_for_changes(dsn: str, wake: Callable[[], None], *, bound: float) -> None:
    """`wake()` on every notification and after every (re)connect, until cancelled."""
    delay = 0.1
    while True:
        try:
            await _listen(dsn, wake, bound)
        except (*UNAVAILABLE_ERRORS, asyncpg.PostgresError) as exc:
            logger.warning(
                "change notifications from PostgreSQL at %s lost (%s): polling meanwhile",
                mask_url(dsn),
                describe(exc),
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def _listen(dsn: str, wake: Callable[[], None], bound: float) -> None:
    conn = await asyncpg.connect(dsn, timeout=bound, statement_cache_size=0)
    try:
        async with asyncio.timeout(bound):
            if await through_pooler(conn):
                logger.warning(
                    "change notifications from PostgreSQL at %s come through a connection"
                    " pooler: in PgBouncer's transaction mode LISTEN cannot be relied on (changes"
                    " are still read from the log every change_poll_interval); there, set"
                    " KEYGUARD_CHANGE_NOTIFICATIONS=false",
                    mask_url(dsn),
                )
            await conn.add_listener(CHANGES_CHANNEL, lambda *_: wake())
        wake()  # anything committed while nobody listened
        while True:
            await asyncio.sleep(_CHECK_EVERY)
            # A link that died silently delivers nothing and raises nothing: ask.
            async with asyncio.timeout(bound):
                await conn.fetchval("SELECT 1")
    finally:
        conn.terminate()

"""PostgreSQL behind a connection pooler (PgBouncer and the like) in transaction mode.

There each transaction may run on another server connection, so two things a direct connection
has are lost: statements asyncpg prepared on one connection (it then fails with "prepared
statement ... does not exist" or "already exists": `statement_cache_size=0` avoids them), and
LISTEN (the listening connection goes back to the pool: notifications are never heard, and
readers must poll the change log, which they do anyway).

A pooler is recognised by the process id it gives at login: PgBouncer makes one up, so it is
not the id of the backend that answers. Session-mode pooling looks the same, hence a warning
rather than a refusal.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

__all__ = ["STATEMENT_CACHE_ADVICE", "lost_prepared_statement", "through_pooler"]

logger = logging.getLogger(__name__)

STATEMENT_CACHE_ADVICE = (
    "a prepared statement was lost: behind PgBouncer (or another pooler) in transaction mode,"
    " set KEYGUARD_STATEMENT_CACHE_SIZE=0 (Settings(statement_cache_size=0))"
)
_LOST_STATEMENT_ERRORS = (
    asyncpg.InvalidSQLStatementNameError,  # prepared on another server connection
    asyncpg.DuplicatePreparedStatementError,  # this name prepared there by another client
)


def lost_prepared_statement(exc: BaseException) -> bool:
    """True for asyncpg's failures when its cached statements meet a transaction pooler."""
    if isinstance(exc, _LOST_STATEMENT_ERRORS):
        return True
    # Another client's statement of the same name: "bind message supplies 1 parameters, but
    # prepared statement "__asyncpg_stmt_5__" requires 2" (a protocol violation).
    return isinstance(exc, asyncpg.PostgresError) and '"__asyncpg_stmt_' in str(exc)


async def through_pooler(conn: Any) -> bool:
    """True when `conn` reaches PostgreSQL through a pooler (see the module's notes)."""
    backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
    return backend != int(conn.get_server_pid())

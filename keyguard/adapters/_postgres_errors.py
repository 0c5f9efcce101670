"""How asyncpg's errors read to the rest of keyguard: unreachable (retried, then a 503),
final (no retry helps), or unexpected (still a 503, logged loudly, never a 500)."""

from __future__ import annotations

import asyncio

import asyncpg

from ._failures import network_failure, one_line

__all__ = [
    "CONNECTION_ERRORS",
    "DRIVER_ERRORS",
    "FINAL_CONNECT_ERRORS",
    "UNAVAILABLE_ERRORS",
    "describe",
]

CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError)
# Errors that say the store is unreachable or failing, as opposed to a bug in a query.
UNAVAILABLE_ERRORS = (
    *CONNECTION_ERRORS,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # e.g. a pooled connection whose backend was just terminated
    asyncpg.OperatorInterventionError,  # class 57: shutdown, admin termination, cannot connect now
    asyncpg.ObjectNotInPrerequisiteStateError,  # class 55: e.g. connections not allowed now
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.QueryCanceledError,
)
# Anything else asyncpg raises: the store failed in a way nobody expected. Still a 503 (logged
# loudly), never a 500: a caller cannot tell it from an outage, nor do anything else about it.
# Values the driver cannot turn into Python (a date past year 9999, say) are as unexpected.
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    *(
        c
        for c in vars(asyncpg.exceptions).values()
        if isinstance(c, type) and issubclass(c, Exception)
    ),
    ValueError,
    OverflowError,
    RecursionError,
    MemoryError,
)
# Retrying cannot fix these: wrong credentials, or no such database.
FINAL_CONNECT_ERRORS = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidCatalogNameError,
)


def describe(exc: BaseException) -> str:
    """What went wrong, in words: "connection refused", "database "x" does not exist". The
    server's own messages name a user or a database at most, never a password."""
    words = network_failure(exc)
    if words is not None:
        return words
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        text = one_line(str(exc))  # e.g. role "x" does not exist; no pg_hba.conf entry ...
        return text if "authentication failed" in text else f"authentication failed: {text}"
    known = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
    if isinstance(exc, known) and str(exc).strip():
        return one_line(str(exc))
    return type(exc).__name__

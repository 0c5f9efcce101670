"""Layer 3, the adapters: SQLite (embedded default), PostgreSQL (asyncpg) and Redis, and the
in-process failure limiter. Each implements a port; that is why `LocalFailureLimiter` is here
(the Redis limiter counts with it too) while `LocalCache`, a part of the verifier, is a service.
Internal: applications use what `keyguard` exports."""

from ._local_failure_limiter import LocalFailureLimiter
from ._local_usage_counter import LocalUsageCounter
from ._postgres import PostgresKeyStore
from ._redis import KEY_PREFIX, RedisKeyCache
from ._redis_failure_limiter import RedisFailureLimiter
from ._redis_rate_limits import RedisRateLimiter
from ._sqlite import SQLiteKeyStore
from ._store_url import DEFAULT_DATABASE_URL, store_from_url
from ._urls import mask_url

__all__ = [
    "DEFAULT_DATABASE_URL",
    "KEY_PREFIX",
    "LocalFailureLimiter",
    "LocalUsageCounter",
    "PostgresKeyStore",
    "RedisFailureLimiter",
    "RedisKeyCache",
    "RedisRateLimiter",
    "SQLiteKeyStore",
    "mask_url",
    "store_from_url",
]

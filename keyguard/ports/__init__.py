"""Layer 2, the ports: the protocols the services depend on and the adapters implement."""

from ._cache import CacheMiss, SharedCache
from ._failure_limiter import FailureLimiter
from ._store import KeyStore, KeyTransaction, StoredKey

__all__ = ["CacheMiss", "FailureLimiter", "KeyStore", "KeyTransaction", "SharedCache", "StoredKey"]

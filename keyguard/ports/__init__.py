"""Layer 2, the ports: the protocols the services depend on and the adapters implement.
Internal: applications use what `keyguard` exports."""

from ._cache import CacheMiss, SharedCache
from ._failure_limiter import FailureLimiter, Slot
from ._observer import Decision, Gauges, Observer, Observers
from ._store import REHASHED, KeyStore, KeyTransaction, StoreChange, StoredKey
from ._usage_counter import UsageCounter

__all__ = [
    "REHASHED",
    "CacheMiss",
    "Decision",
    "FailureLimiter",
    "Gauges",
    "KeyStore",
    "KeyTransaction",
    "Observer",
    "Observers",
    "SharedCache",
    "Slot",
    "StoreChange",
    "StoredKey",
    "UsageCounter",
]

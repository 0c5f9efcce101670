"""Layer 4, the services: the key lifecycle (manager) and the verifier (hot path)."""

from ._circuit_breaker import CircuitBreaker
from ._last_used import LastUsedRecorder
from ._lifecycle import DEFAULT_GRACE, MAX_GRACE, MAX_PAGE, KeyChange, KeyManager
from ._local_cache import CachedLookup, LocalCache
from ._verifier import KeyVerifier, Miss, Verdict

__all__ = [
    "DEFAULT_GRACE",
    "MAX_GRACE",
    "MAX_PAGE",
    "CachedLookup",
    "CircuitBreaker",
    "KeyChange",
    "KeyManager",
    "KeyVerifier",
    "LastUsedRecorder",
    "LocalCache",
    "Miss",
    "Verdict",
]

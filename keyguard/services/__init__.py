"""Layer 4, the services: the key lifecycle (manager), the verifier (hot path) and the change
feed that keeps every process's caches honest. Internal: applications use what `keyguard`
exports."""

from ._change_feed import ChangeFeed
from ._change_memory import ChangeMemory
from ._circuit_breaker import CircuitBreaker
from ._hook_failures import hook_failed
from ._last_used import LastUsedRecorder
from ._leaks import LEAK_ACTOR, LeakAction, LeakFinding, LeakReports
from ._lifecycle import DEFAULT_GRACE, MAX_GRACE, MAX_PAGE, KeyChange, KeyManager
from ._local_cache import CachedLookup, LocalCache
from ._observed_calls import observed_calls
from ._quota_writer import QuotaWriter
from ._refusal_log import REFUSAL_ACTOR, REFUSAL_EVENTS, RefusalLog
from ._shared_tier import SharedTier
from ._tasks import background_task, stop_tasks
from ._usage_limiting import UsageLimiting, UsagePlan
from ._verifier import MEMORY_MARGIN, KeyVerifier, Miss, StoreAdmission, Verdict

__all__ = [
    "DEFAULT_GRACE",
    "LEAK_ACTOR",
    "MAX_GRACE",
    "MAX_PAGE",
    "MEMORY_MARGIN",
    "REFUSAL_ACTOR",
    "REFUSAL_EVENTS",
    "CachedLookup",
    "ChangeFeed",
    "ChangeMemory",
    "CircuitBreaker",
    "KeyChange",
    "KeyManager",
    "KeyVerifier",
    "LastUsedRecorder",
    "LeakAction",
    "LeakFinding",
    "LeakReports",
    "LocalCache",
    "Miss",
    "QuotaWriter",
    "RefusalLog",
    "SharedTier",
    "StoreAdmission",
    "UsageLimiting",
    "UsagePlan",
    "Verdict",
    "background_task",
    "hook_failed",
    "observed_calls",
    "stop_tasks",
]

"""Issue 14's limited keys as the benchmark mints them: limits that never refuse during a run.
1,000,000 requests a second is far above what one process sends, and the quota starts at the
most keyguard allows (10^12), refilled daily. Kept apart so that the environment (which mints
the keys) and the cases (`limited.py`) read the same settings without importing each other.
"""

from __future__ import annotations

__all__ = ["QUOTA", "RATE_LIMITS"]

RATE_LIMITS = ["1000000/s"]
QUOTA = {"remaining": 10**12, "refillAmount": 10**12, "refillInterval": "1d"}

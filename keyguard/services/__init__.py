"""Layer 4, the services: the key lifecycle (manager) and the verifier (hot path)."""

from ._lifecycle import DEFAULT_GRACE, MAX_GRACE, MAX_PAGE, KeyChange, KeyManager

__all__ = ["DEFAULT_GRACE", "MAX_GRACE", "MAX_PAGE", "KeyChange", "KeyManager"]

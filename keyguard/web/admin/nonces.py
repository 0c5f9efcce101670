"""One-time form nonces: the "new key" and "roll" forms each create one key, however often the
browser sends them (a reload, the back button, a double click)."""

from __future__ import annotations

import secrets

from .._once import OnceOnly

__all__ = ["NonceBook"]


class NonceBook:
    """Remembers the last `size` nonces spent, in this process. Older ones are forgotten; a form
    that old has long since been answered."""

    def __init__(self, size: int = 10_000) -> None:
        self._spent = OnceOnly(max_entries=size)

    @staticmethod
    def new() -> str:
        return secrets.token_urlsafe(16)

    def spend(self, nonce: str) -> bool:
        """True the first time `nonce` is spent; False after (and for no nonce at all)."""
        return bool(nonce) and len(nonce) <= 64 and self._spent.first_use(nonce)

    def give_back(self, nonce: str) -> None:
        """The create failed for a reason a retry may fix (the store was down): allow one."""
        self._spent.give_back(nonce)

"""One-time form nonces: the "new key" and "roll" forms each create one key, however often the
browser sends them (a reload, the back button, a double click)."""

from __future__ import annotations

import secrets
from collections import OrderedDict

__all__ = ["NonceBook"]


class NonceBook:
    """Remembers the last `size` nonces spent, in this process. Older ones are forgotten; a form
    that old has long since been answered."""

    def __init__(self, size: int = 10_000) -> None:
        self._spent: OrderedDict[str, None] = OrderedDict()
        self._size = size

    @staticmethod
    def new() -> str:
        return secrets.token_urlsafe(16)

    def spend(self, nonce: str) -> bool:
        """True the first time `nonce` is spent; False after (and for no nonce at all)."""
        if not nonce or len(nonce) > 64 or nonce in self._spent:
            return False
        self._spent[nonce] = None
        if len(self._spent) > self._size:
            self._spent.popitem(last=False)
        return True

    def give_back(self, nonce: str) -> None:
        """The create failed for a reason a retry may fix (the store was down): allow one."""
        self._spent.pop(nonce, None)

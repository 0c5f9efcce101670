"""The stored form of a key: a 32-byte BLAKE3 digest, keyed with the server's pepper.

The pepper never keys BLAKE3 directly: a key is derived from it under a fixed context string, so
the same pepper used elsewhere cannot collide with ours. `version` names the hashing scheme (and,
for peppered digests, a short fingerprint of the derived key) and is stored beside each digest,
so a server can change its pepper later and still know which digests came from which.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from blake3 import blake3

__all__ = ["DIGEST_CONTEXT", "SHARED_CACHE_MAC_CONTEXT", "KeyHasher", "derive_key"]

DIGEST_CONTEXT = "keyguard 2026-11-22 API key digest v1"
_FINGERPRINT_CONTEXT = "keyguard 2026-11-22 pepper fingerprint v1"
# Authenticates what keyguard writes to the shared cache: a key apart from the digest key, so a
# MAC can never be mistaken for a digest or the other way round.
SHARED_CACHE_MAC_CONTEXT = "keyguard 2026-11-27 shared cache entry MAC v1"
_PLAIN_VERSION = "blake3"


def derive_key(pepper: str | bytes | None, context: str) -> bytes:
    """A 32-byte key for `context` from the pepper (from nothing secret when there is none)."""
    if isinstance(pepper, str):
        pepper = pepper.encode()
    return blake3(pepper or b"", derive_key_context=context).digest()


class KeyHasher:
    """Turns key values into digests; its repr shows neither the derived key nor the pepper."""

    __slots__ = ("_key", "new", "version")

    def __init__(self, pepper: str | bytes | None = None) -> None:
        if isinstance(pepper, str):
            pepper = pepper.encode()
        if pepper:
            self._key: bytes | None = blake3(pepper, derive_key_context=DIGEST_CONTEXT).digest()
            # A partial over the C constructor: the hot path calls it with no Python frame.
            self.new: Callable[[bytes], blake3] = partial(blake3, key=self._key)
            fingerprint = blake3(self._key, derive_key_context=_FINGERPRINT_CONTEXT).hexdigest()
            self.version = f"blake3-keyed:{fingerprint[:8]}"
        else:
            self._key = None
            self.new = blake3
            self.version = _PLAIN_VERSION

    @property
    def peppered(self) -> bool:
        return self._key is not None

    def digest(self, value: str) -> bytes:
        return self.digest_bytes(value.encode())

    def digest_bytes(self, data: bytes) -> bytes:
        return self.new(data).digest()

    def __repr__(self) -> str:
        return f"KeyHasher(version={self.version!r})"

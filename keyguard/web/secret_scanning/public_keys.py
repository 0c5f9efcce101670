"""The public keys GitHub signs secret-scanning reports with, and the check of a signature.

The keys come from a configurable URL (GitHub's, by default, over https), are kept for an hour,
and are fetched again sooner when a report names a key not seen yet (GitHub rotates its keys),
at most every five minutes. Whatever requests arrive, GitHub is asked at most once a minute,
with the document's ETag (an unchanged document costs its rate limit nothing): made-up key ids
in unsigned requests must not become requests to GitHub.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keyguard.core import UnavailableError

__all__ = ["DEFAULT_PUBLIC_KEYS_URL", "GitHubPublicKeys", "SignatureCheck"]

logger = logging.getLogger(__name__)
DEFAULT_PUBLIC_KEYS_URL = "https://api.github.com/meta/public_keys/secret_scanning"
MAX_DOCUMENT_SIZE = 1 << 20
_IDENTIFIER = re.compile(r"[0-9a-fA-F]{1,128}")  # GitHub's: a SHA-256, in hex
_MAX_SIGNATURE_LENGTH = 200  # a P-256 DER signature is at most 72 bytes: 96 in base64
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class SignatureCheck(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"  # malformed, or not made by the key named
    UNKNOWN_KEY = "unknown key"  # a key id GitHub does not publish


class GitHubPublicKeys:
    def __init__(
        self,
        url: str = DEFAULT_PUBLIC_KEYS_URL,
        *,
        token: str | None = None,
        refresh_after: float = 3600.0,
        refetch_unknown_after: float = 300.0,
        retry_after: float = 60.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = _checked_url(url)
        self._headers = {"accept": "application/json"}
        if token:  # GitHub's API allows more requests to a caller that authenticates
            self._headers["authorization"] = f"Bearer {token}"
        self.refresh_after = refresh_after
        self.refetch_unknown_after = refetch_unknown_after
        self.retry_after = retry_after
        self.timeout = timeout
        self._clock = clock
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._etag: str | None = None
        self._fetched_at: float | None = None  # when the keys held were last confirmed
        self._tried_at: float | None = None  # when a fetch was last tried, however it went
        self._lock = asyncio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        token = ", token='***'" if "authorization" in self._headers else ""
        return f"GitHubPublicKeys({self.url!r}{token})"

    async def check(self, identifier: str, signature: str, body: bytes) -> SignatureCheck:
        """Whether `signature` (base64 DER ECDSA P-256 SHA-256) signs `body` with the key
        `identifier`. Raises `UnavailableError` when no keys could be fetched."""
        der = _decoded(signature)
        if der is None or not _IDENTIFIER.fullmatch(identifier):
            return SignatureCheck.INVALID
        key = await self._key(identifier.lower())
        if key is None:
            return SignatureCheck.UNKNOWN_KEY
        try:
            key.verify(der, body, _ECDSA_SHA256)
        except InvalidSignature:
            return SignatureCheck.INVALID
        return SignatureCheck.VALID

    async def _key(self, identifier: str) -> ec.EllipticCurvePublicKey | None:
        if self._wants_fetch(identifier):
            async with self._lock:  # one fetch at a time; who waited sees its result
                if self._wants_fetch(identifier):
                    await self._refresh()
        if not self._keys:
            raise UnavailableError("GitHub's public keys cannot be fetched")
        return self._keys.get(identifier)

    def _wants_fetch(self, identifier: str) -> bool:
        """Whether to ask GitHub now. Never more than once per `retry_after`, whatever the
        requests say (unsigned ones naming made-up keys included): they must not spend
        GitHub's rate limit or hold requests up."""
        now = self._clock()
        if self._tried_at is not None and now - self._tried_at < self.retry_after:
            return False
        if self._fetched_at is None or now - self._fetched_at >= self.refresh_after:
            return True
        assert self._tried_at is not None
        return identifier not in self._keys and now - self._tried_at >= self.refetch_unknown_after

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        try:
            keys = await self._fetch()
        except Exception as exc:
            # The keys held (if any) still check what they signed; the next try comes later.
            logger.warning("could not fetch GitHub's public keys from %s: %s", self.url, exc)
            return
        if keys is not None:
            self._keys = keys
        self._fetched_at = self._clock()

    async def _fetch(self) -> dict[str, ec.EllipticCurvePublicKey] | None:
        """The document's keys, or None when it has not changed since the last fetch."""
        self.fetches += 1
        headers = dict(self._headers)
        if self._etag and self._keys:
            headers["if-none-match"] = self._etag  # a 304 costs GitHub's rate limit nothing
        async with (
            httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client,
            client.stream("GET", self.url, headers=headers) as response,
        ):
            if response.status_code == 304 and self._keys:
                return None
            if response.status_code != 200:
                raise ValueError(f"it answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_SIZE:
                    raise ValueError(f"it sent more than {MAX_DOCUMENT_SIZE} bytes")
            keys = parse_public_keys(bytes(body))
            self._etag = response.headers.get("etag")
            return keys


def _checked_url(url: str) -> str:
    """https, or http to this machine only (a test's document): keys fetched over plain HTTP
    from elsewhere could be anyone's."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("public_keys_url must be an https:// URL (http:// only to 127.0.0.1)")
    return url


def parse_public_keys(document: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """`{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}` as id -> key.
    Raises ValueError for a document with no usable P-256 key."""
    parsed = json.loads(document)
    entries = parsed.get("public_keys") if isinstance(parsed, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("the document has no public_keys list")
    keys = {}
    for entry in entries:
        found = _entry_key(entry)
        if found is not None:
            keys[found[0]] = found[1]
    if not keys:
        raise ValueError("the document lists no ECDSA P-256 public key")
    return keys


def _entry_key(entry: object) -> tuple[str, ec.EllipticCurvePublicKey] | None:
    if not isinstance(entry, Mapping):
        return None
    identifier, pem = entry.get("key_identifier"), entry.get("key")
    if not isinstance(identifier, str) or not _IDENTIFIER.fullmatch(identifier):
        return None
    if not isinstance(pem, str):
        return None
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return None
    return identifier.lower(), key


def _decoded(signature: str) -> bytes | None:
    if not signature or len(signature) > _MAX_SIGNATURE_LENGTH:
        return None
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None

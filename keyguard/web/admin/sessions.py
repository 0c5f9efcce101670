"""The page's session cookie: signed, HttpOnly, SameSite, bounded in time, and the CSRF token
derived from it.

A cookie is `payload.mac`, both base64url: the payload is JSON (session id, expiry, and for a
token sign-in the identity), the MAC an HMAC-SHA256 under the page's secret. Nothing in it is a
secret; it only cannot be forged. The CSRF token is an HMAC of the session id (and, when the host
app identifies people, of who they are), so a token taken from one session fits no other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from keyguard.core import derive_key

from .identity import AdminIdentity

__all__ = ["COOKIE_NAME", "SESSION_CONTEXT", "Session", "SessionCodec", "session_secret"]

COOKIE_NAME = "keyguard_admin"
SESSION_CONTEXT = "keyguard 2026-11-27 admin page session v1"
_MAX_COOKIE = 2048


def session_secret(pepper: str | None) -> bytes:
    """The cookie key: derived from the pepper, so every process of a deployment shares it;
    without one, random, so sessions last as long as this process."""
    return derive_key(pepper, SESSION_CONTEXT) if pepper else secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    expires: int  # Unix time
    identity: AdminIdentity | None = None  # set by a token sign-in; else the host app says


class SessionCodec:
    def __init__(self, secret: bytes, *, lifetime: int) -> None:
        self._secret = secret
        self.lifetime = lifetime
        self._ended: dict[str, int] = {}  # signed-out session ids, until they expire anyway

    def new(self, identity: AdminIdentity | None = None) -> Session:
        expires = int(time.time()) + self.lifetime
        return Session(secrets.token_urlsafe(18), expires, identity)

    def encode(self, session: Session) -> str:
        data: dict[str, object] = {"s": session.id, "e": session.expires}
        if session.identity is not None:
            data["i"] = _identity_json(session.identity)
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def decode(self, cookie: str | None) -> Session | None:
        """The session in the cookie, or None: absent, forged, expired, signed out, malformed."""
        if not cookie or len(cookie) > _MAX_COOKIE or cookie.count(".") != 1:
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(data["s"], int(data["e"]), _identity(data.get("i")))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None  # signed by us, so only an older format could land here
        if session.expires <= time.time() or session.id in self._ended:
            return None
        return session

    def end(self, session: Session) -> None:
        now = time.time()
        self._ended = {sid: exp for sid, exp in self._ended.items() if exp > now}
        self._ended[session.id] = session.expires

    def csrf_token(self, session: Session, identity: AdminIdentity) -> str:
        return self._mac(f"csrf|{session.id}|{identity.account}|{identity.name}")

    def csrf_ok(self, session: Session, identity: AdminIdentity, token: str) -> bool:
        expected = self.csrf_token(session, identity)
        return hmac.compare_digest(token.encode(), expected.encode())

    def _mac(self, text: str) -> str:
        return _b64(hmac.new(self._secret, text.encode(), hashlib.sha256).digest())


def _identity_json(identity: AdminIdentity) -> dict[str, object]:
    return {
        "a": identity.account,
        "n": identity.name,
        "o": identity.owner,
        "k": identity.own_keys_only,
        "l": identity.manages_live,
    }


def _identity(data: object) -> AdminIdentity | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("identity")
    return AdminIdentity(
        account=data["a"],
        name=data["n"],
        owner=data["o"],
        own_keys_only=bool(data["k"]),
        manages_live=bool(data["l"]),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

"""What keyguard writes to Redis, and the check of everything it reads back.

Redis is shared, not trusted. An entry is `MAC || body`: the MAC is keyed BLAKE3 (a key derived
from the pepper under its own context) over the digest the entry is stored under and the body,
so an entry cannot be forged, altered, or copied under another key's digest. The body carries
its own expiry, so an entry saved earlier cannot be written back to live again, and the key's
version, so a process that heard of a change refuses copies older than it.

Decoding never raises: anything that fails the MAC, does not parse, or holds a value out of
range is `BAD`, and the caller treats it as a miss. Change notices on the channel are signed
the same way.
"""

from __future__ import annotations

import enum
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from blake3 import blake3

from keyguard.core import (
    Access,
    KeyRecord,
    decoded_restrictions,
    decoded_usage,
    freeze_mapping,
    rate_limits_json,
    stored_quota,
)
from keyguard.ports import StoreChange

__all__ = ["BAD", "MAX_ENTRY_BYTES", "EntryCodec"]

MAX_ENTRY_BYTES = 65_536  # far above any real entry: a bigger one is not parsed at all
_MAC_SIZE = 32
_CLOCK_SKEW_MS = 5_000  # how far ahead of ours another host's clock may run
_MAX_SEQ = 2**63 - 1
_MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last a datetime holds
_MAX_ID = 64
_ACCESS = {a.value: a for a in Access}


class _Bad(enum.Enum):
    BAD = "bad"


BAD = _Bad.BAD  # an entry or notice that fails the check: a miss, to be deleted


class EntryCodec:
    def __init__(
        self, mac_key: bytes, *, ttl: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._mac_key = mac_key
        self._ttl_ms = int(ttl * 1000)
        self._clock = clock

    def _mac(self, *parts: bytes) -> bytes:
        mac = blake3(key=self._mac_key)
        for part in parts:
            mac.update(part)
        return mac.digest()

    def encode(self, digest: bytes, record: KeyRecord | None, ttl_ms: int) -> bytes:
        body = json.dumps(
            {"x": self._now_ms() + ttl_ms, "r": None if record is None else _record_json(record)},
            separators=(",", ":"),
        ).encode()
        return self.seal(digest, body)

    def seal(self, digest: bytes, body: bytes) -> bytes:
        """`body` as an entry under `digest`: its MAC, then itself."""
        return self._mac(digest, body) + body

    def decode(self, digest: bytes, raw: bytes) -> tuple[KeyRecord | None, int] | _Bad:
        """The record (None: "no such key") and its expiry in Unix ms, or `BAD`. The expiry is
        not checked here: the caller checks it on every read, even of a memoized entry."""
        if not _MAC_SIZE < len(raw) <= MAX_ENTRY_BYTES:
            return BAD
        body = raw[_MAC_SIZE:]
        if not hmac.compare_digest(raw[:_MAC_SIZE], self._mac(digest, body)):
            return BAD
        try:
            data = json.loads(body)
            expires_ms = _int(data["x"], 0, _MAX_SEQ)
            found = data["r"]
            return (None if found is None else _record(found)), expires_ms
        except Exception:
            # Even a correctly signed entry may not decode (a writer with a bug, a value out of
            # range, nesting past the recursion limit): a miss, never an exception.
            return BAD

    def fresh(self, expires_ms: int) -> bool:
        """Not expired, and not claiming to live longer than an entry may."""
        now = self._now_ms()
        return now < expires_ms <= now + self._ttl_ms + _CLOCK_SKEW_MS

    def sign_change(self, change: StoreChange) -> bytes:
        body = b"%s %d %s %s %d" % (
            change.key_id.encode(),
            change.seq,
            change.digest.hex().encode(),
            change.event.encode(),
            # When it committed, in ms by the sender's clock (0: unknown), for the lag metric.
            _at_ms(change.at),
        )
        return self._mac(b"change ", body) + body

    def open_change(self, raw: bytes) -> StoreChange | _Bad:
        if not _MAC_SIZE < len(raw) <= 1024:
            return BAD
        body = raw[_MAC_SIZE:]
        if not hmac.compare_digest(raw[:_MAC_SIZE], self._mac(b"change ", body)):
            return BAD
        try:
            # Four fields from senders before the commit time was carried.
            key_id, seq, digest, event, *at = body.decode("ascii").split(" ", 4)
            at_ms = _int(int(at[0]), 0, _MAX_SEQ) if at else 0
            return StoreChange(
                _int(int(seq), 0, _MAX_SEQ),
                _text(key_id),
                bytes.fromhex(digest),
                _text(event),
                at_ms / 1000 if at_ms else None,
            )
        except Exception:
            return BAD

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _record_json(record: KeyRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "n": record.name,
        "a": record.account,
        "o": record.owner,
        "e": record.environment,
        "k": record.access.value,
        "p": record.prefix,
        "l": record.last4,
        "c": _ms(record.created_at),
        "u": _ms(record.last_used_at),
        "rv": _ms(record.revoked_at),
        "ex": _ms(record.expires_at),
        "rb": record.replaced_by,
        "m": dict(record.metadata),
        "v": record.version,
        "pm": None if record.permissions is None else sorted(record.permissions),
        "og": None if record.allowed_origins is None else list(record.allowed_origins),
        "nw": None if record.allowed_networks is None else list(record.allowed_networks),
        "rl": rate_limits_json(record.rate_limits),
        "qt": stored_quota(record.quota),
        "ca": record.counted_as,
    }


def _record(data: Mapping[str, Any]) -> KeyRecord:
    """The inverse of `_record_json`; raises on anything of the wrong type or out of range."""
    created_at = _time(data["c"])
    metadata = data["m"]
    access = _ACCESS[data["k"]]
    limits = decoded_restrictions(access, data["pm"], data["og"], data["nw"])
    if created_at is None or not isinstance(metadata, dict):
        raise ValueError("malformed entry")
    return KeyRecord(
        id=_text(data["id"]),
        name=_text(data["n"]),
        account=_text(data["a"]),
        owner=None if data["o"] is None else _text(data["o"]),
        environment=_text(data["e"]),
        access=access,
        prefix=_text(data["p"]),
        last4=_text(data["l"]),
        created_at=created_at,
        last_used_at=_time(data["u"]),
        revoked_at=_time(data["rv"]),
        expires_at=_time(data["ex"]),
        replaced_by=None if data["rb"] is None else _text(data["rb"]),
        metadata=freeze_mapping(metadata),
        version=_int(data["v"], 0, _MAX_SEQ),
        **limits.as_fields(),
        **decoded_usage(data["rl"], data["qt"]).as_fields(),
        counted_as=None if data["ca"] is None else _text(data["ca"]),
    )


def _ms(at: datetime | None) -> int | None:
    return None if at is None else round(at.timestamp() * 1000)


def _time(ms: object) -> datetime | None:
    if ms is None:
        return None
    seconds, millis = divmod(_int(ms, 0, _MAX_TIME_MS), 1000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000)


def _at_ms(at: float | None) -> int:
    """A commit time as whole milliseconds, 0 for "not known" (and for nonsense)."""
    # Rounded, not truncated: 1.001 s is 1000.999... ms as a float. Never negative (a clock
    # before 1970) nor NaN: the reader would refuse the whole notice.
    return round(at * 1000) if at is not None and 0 < at < _MAX_SEQ / 1000 else 0


def _int(value: object, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError("malformed entry")
    return value


def _text(value: object) -> str:
    if type(value) is not str or len(value) > 1000:
        raise ValueError("malformed entry")
    return value

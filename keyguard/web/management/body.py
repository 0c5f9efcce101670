"""Request bodies of the management API: read at most 64 KiB, parse strict JSON, then check it
against the operation's model (`models`), which names every problem in one 400.

Strict JSON means: an object, no duplicate names, no NaN or Infinity. Python's parser would
take those, and no JSON Schema can say it refuses them, so that is checked here, first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from keyguard.core import (
    MAX_METADATA_DEPTH,
    UNCHANGED,
    Access,
    RateLimit,
    Unchanged,
    ValidationError,
)
from keyguard.services import DEFAULT_GRACE

if TYPE_CHECKING:  # pydantic is imported only once management routes are built
    from .models import RequestModels

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_BODY_DEPTH",
    "BodyTooLarge",
    "KeyChanges",
    "NewKey",
    "NotJSON",
    "grace_period",
    "key_changes",
    "new_key",
]

MAX_BODY_BYTES = 64 * 1024
MAX_BODY_DEPTH = MAX_METADATA_DEPTH + 1  # the body's object around the deepest field
# Strings whole (so brackets inside them do not count), then any bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{}]')
# The names of our bodies' fields: an error may name these, never a name a client made up.
_FIELDS = frozenset(
    {
        "name",
        "environment",
        "access",
        "expiresAt",
        "metadata",
        "gracePeriodSeconds",
        "permissions",
        "allowedOrigins",
        "allowedNetworks",
        "rateLimits",
        "quota",
    }
)
_LENGTH = re.compile(r"[0-9]{1,19}")


class BodyTooLarge(Exception):
    """The body is over `MAX_BODY_BYTES`, declared or as it streamed in."""


class NotJSON(Exception):
    """A body whose Content-Type is not `application/json` (parameters such as a charset
    allowed): what a body means is not guessed from its bytes."""


@dataclass(frozen=True, slots=True)
class NewKey:
    name: str
    environment: str
    access: Access
    expires_at: datetime | None
    metadata: Mapping[str, Any] | None
    permissions: list[str] | None
    allowed_origins: list[str] | None
    allowed_networks: list[str] | None
    rate_limits: list[RateLimit] | None
    quota: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class KeyChanges:
    """A PATCH: each field UNCHANGED when the body left it out; a restriction None to lift it."""

    name: str | Unchanged
    permissions: list[str] | Unchanged | None
    allowed_origins: list[str] | Unchanged | None
    allowed_networks: list[str] | Unchanged | None
    rate_limits: list[RateLimit] | Unchanged | None
    quota: Mapping[str, Any] | Unchanged | None

    @property
    def restrictions(self) -> dict[str, list[str] | Unchanged | None]:
        """As `KeyManager.restrict` takes them."""
        return {
            "permissions": self.permissions,
            "allowed_origins": self.allowed_origins,
            "allowed_networks": self.allowed_networks,
        }

    @property
    def limits(self) -> dict[str, Any]:
        """As `KeyManager.limit` takes them."""
        return {"rate_limits": self.rate_limits, "quota": self.quota}


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body reads as `{}`."""
    raw = await _read(request)
    if not raw.strip():
        return {}
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise NotJSON
    _check_depth(raw)
    try:
        value = json.loads(raw, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ValidationError.single("body", "is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValidationError.single("body", "must be a JSON object")
    return value


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if _LENGTH.fullmatch(declared) and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    # The header may be absent (chunked) or wrong: what counts is what arrives.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _check_depth(raw: bytes) -> None:
    """Refuse JSON nested deeper than a body of ours can be, before the (recursive) parser
    sees it, naming the top-level field it is in when that is one of ours."""
    depth, field = 0, "body"
    for token in _TOKENS.finditer(raw):
        text = token.group()
        if text[:1] == b'"':
            if depth == 1 and text.endswith(b":"):  # a top-level name: one string, no nesting
                name = text[: text.rindex(b'"') + 1].decode("utf-8", "replace")
                field = name[1:-1] if name[1:-1] in _FIELDS else "body"
            continue
        depth += 1 if text in b"[{" else -1
        if depth > MAX_BODY_DEPTH:
            raise ValidationError.single(
                field, f"must be nested at most {MAX_METADATA_DEPTH} levels deep"
            )


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValidationError.single(
                name if name in _FIELDS else "body", "is given more than once"
            )
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def new_key(request: Request, models: RequestModels) -> NewKey:
    body = models.read(models.create_key, await json_object(request))
    return NewKey(
        body.name,
        body.environment,
        Access(body.access),
        body.expires_at,
        body.metadata,
        body.permissions,
        body.allowed_origins,
        body.allowed_networks,
        body.rate_limits,
        None if body.quota is None else body.quota.as_input(),
    )


async def key_changes(request: Request, models: RequestModels) -> KeyChanges:
    body = models.read(models.update_key, await json_object(request))
    given = body.model_fields_set  # by field name: what the body held, null or not

    def field(name: str) -> Any:
        return getattr(body, name) if name in given else UNCHANGED

    quota = field("quota")
    return KeyChanges(
        field("name"),
        field("permissions"),
        field("allowed_origins"),
        field("allowed_networks"),
        field("rate_limits"),
        quota if quota is None or quota is UNCHANGED else quota.as_input(),
    )


async def grace_period(request: Request, models: RequestModels) -> timedelta:
    seconds = models.read(models.roll_key, await json_object(request)).grace_period_seconds
    return DEFAULT_GRACE if seconds is None else timedelta(seconds=seconds)

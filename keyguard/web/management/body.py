"""Request bodies of the management API: read at most 64 KiB, parse strict JSON, check fields.

Strict means: an object, no duplicate names, no NaN or Infinity, no field the operation does not
know, and every value of the documented type. Every problem is named in one 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request

from keyguard.core import (
    MAX_NAME_LENGTH,
    Access,
    ValidationError,
    parse_access,
    utcnow,
    validate_environment,
    validate_metadata,
    validate_name,
)
from keyguard.services import DEFAULT_GRACE, MAX_GRACE

from .fields import Fields, rfc3339

__all__ = ["MAX_BODY_BYTES", "BodyTooLarge", "NewKey", "grace_period", "new_key", "new_name"]

MAX_BODY_BYTES = 64 * 1024
_LENGTH = re.compile(r"[0-9]{1,19}")
_NEW_KEY_FIELDS = ("name", "environment", "access", "expiresAt", "metadata")


class BodyTooLarge(Exception):
    """The body is over `MAX_BODY_BYTES`, declared or as it streamed in."""


@dataclass(frozen=True, slots=True)
class NewKey:
    name: str
    environment: str
    access: Access
    expires_at: datetime | None
    metadata: Mapping[str, Any] | None


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body reads as `{}`."""
    raw = await _read(request)
    if not raw.strip():
        return {}
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


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValidationError.single(name, "is given more than once")
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def new_key(request: Request, environments: tuple[str, ...]) -> NewKey:
    fields = Fields(await json_object(request), _NEW_KEY_FIELDS)
    new = NewKey(
        name=fields.required("name", _name),
        environment=fields.required("environment", lambda v: validate_environment(v, environments)),
        access=fields.required("access", parse_access),
        expires_at=fields.optional("expiresAt", _future, None),
        metadata=fields.optional("metadata", _metadata, None),
    )
    fields.done()
    return new


async def new_name(request: Request) -> str:
    fields = Fields(await json_object(request), ("name",))
    name = fields.required("name", _name)
    fields.done()
    return name


async def grace_period(request: Request) -> timedelta:
    fields = Fields(await json_object(request), ("gracePeriodSeconds",))
    grace = fields.optional("gracePeriodSeconds", _seconds, DEFAULT_GRACE)
    fields.done()
    return grace


def _name(value: object) -> str:
    # Checked before trimming too: a schema-driven client counts the characters it sends.
    if isinstance(value, str) and len(value) > MAX_NAME_LENGTH:
        raise ValidationError.single("name", f"must be at most {MAX_NAME_LENGTH} characters")
    return validate_name(value)


def _future(value: object) -> datetime:
    at = rfc3339(value, "expiresAt")
    if at <= utcnow():
        raise ValidationError.single("expiresAt", "must be in the future")
    return at


def _metadata(value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError.single("metadata", "must be a JSON object")
    return validate_metadata(value)


def _seconds(value: object) -> timedelta:
    limit = int(MAX_GRACE.total_seconds())
    # bool is an int in Python, not in JSON.
    if type(value) is not int or not 0 <= value <= limit:
        raise ValidationError.single(
            "gracePeriodSeconds", f"must be a whole number of seconds from 0 to {limit}"
        )
    return timedelta(seconds=value)

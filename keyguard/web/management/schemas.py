"""JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what the management API takes and returns.

Every object is closed (`additionalProperties: false`): a response with a field the document
does not name is a bug, and so is a request the API accepts with one.
"""

from __future__ import annotations

from typing import Any

from keyguard.core import MAX_NAME_LENGTH, ULID_PATTERN, AuditEventType, ErrorCode, KeyStatus
from keyguard.services import MAX_GRACE

from .body import MAX_BODY_BYTES
from .query import MAX_CURSOR_LENGTH

__all__ = ["KEY_ID_PATTERN", "component_schemas"]

Schema = dict[str, Any]
KEY_ID_PATTERN = f"^key_{ULID_PATTERN}$"
_TIME: Schema = {"type": "string", "format": "date-time"}
_MAYBE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_BODY_NOTE = f"At most {MAX_BODY_BYTES // 1024} KiB of JSON."
_MAX_GRACE_SECONDS = int(MAX_GRACE.total_seconds())
_CURSOR: Schema = {
    "type": "string",
    "pattern": f"^[A-Za-z0-9_-]{{0,{MAX_CURSOR_LENGTH}}}$",
    "description": "Opaque: `meta.nextCursor` of the page before.",
}
_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
    "pattern": r"\S",
    "description": "Surrounding spaces are trimmed; control characters are refused.",
}


def closed(properties: Schema, required: tuple[str, ...] | None = None) -> Schema:
    names = tuple(properties) if required is None else required
    return {
        "type": "object",
        "properties": properties,
        "required": list(names),
        "additionalProperties": False,
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(data: Schema) -> Schema:
    return closed({"data": data, "error": {"type": "null"}, "meta": _ref("Meta")})


def component_schemas(environments: tuple[str, ...]) -> dict[str, Schema]:
    summary = _key_summary(environments)
    detail = {
        **summary,
        "replacedBy": {"type": ["string", "null"], "description": "The key that rolled it."},
        "metadata": {"type": "object"},
    }
    created = {**detail, "value": {"type": "string", "description": "Shown this once only."}}
    return {
        "Meta": _meta(),
        "Error": _error(),
        "ErrorEnvelope": closed(
            {"data": {"type": "null"}, "error": _ref("Error"), "meta": _ref("Meta")}
        ),
        "APIKeySummary": closed(summary),
        "APIKey": closed(detail),
        "CreatedAPIKey": closed(created),
        "AuditEntry": _audit_entry(),
        "APIKeyList": _envelope({"type": "array", "items": _ref("APIKeySummary")}),
        "APIKeyEnvelope": _envelope(_ref("APIKey")),
        "CreatedAPIKeyEnvelope": _envelope(_ref("CreatedAPIKey")),
        "AuditLog": _envelope({"type": "array", "items": _ref("AuditEntry")}),
        "CreateAPIKey": _create_request(environments),
        "RenameAPIKey": {**closed({"name": _NAME}), "description": _BODY_NOTE},
        "RollAPIKey": _roll_request(),
        "Cursor": _CURSOR,
    }


def _meta() -> Schema:
    return closed(
        {
            "requestId": {"type": "string"},
            "timestamp": _TIME,
            "nextCursor": {"type": "string", "description": "Pass as `cursor` for more."},
        },
        required=("requestId", "timestamp"),
    )


def _key_summary(environments: tuple[str, ...]) -> Schema:
    return {
        "id": {"type": "string", "pattern": KEY_ID_PATTERN},
        "name": {"type": "string"},
        "prefix": {"type": "string", "examples": ["sk_live_"]},
        "last4": {"type": "string", "minLength": 4, "maxLength": 4},
        "environment": {"enum": list(environments)},
        "access": {"enum": ["secret", "publishable"]},
        "status": {"enum": [s.value for s in KeyStatus]},
        "createdAt": _TIME,
        "lastUsedAt": _MAYBE_TIME,
        "revokedAt": _MAYBE_TIME,
        "expiresAt": _MAYBE_TIME,
    }


def _error() -> Schema:
    detail = closed({"field": {"type": "string"}, "message": {"type": "string"}})
    return closed(
        {
            "code": {"enum": [c.value for c in ErrorCode]},
            "message": {"type": "string"},
            "details": {"type": "array", "items": detail},
        },
        required=("code", "message"),
    )


def _audit_entry() -> Schema:
    return closed(
        {
            "id": {"type": "string"},
            "event": {"enum": [e.value for e in AuditEventType]},
            "keyId": {"type": ["string", "null"]},
            "actor": {"type": "string", "description": "The id of the key that made the change."},
            "requestId": {"type": ["string", "null"]},
            "occurredAt": _TIME,
            "data": {"type": "object"},
        }
    )


def _create_request(environments: tuple[str, ...]) -> Schema:
    fields = {
        "name": _NAME,
        "environment": {"enum": list(environments)},
        "access": {"enum": ["secret", "publishable"]},
        "expiresAt": {**_MAYBE_TIME, "description": "In the future, with an offset."},
        "metadata": {"type": ["object", "null"], "description": "At most 4 KiB of JSON."},
    }
    schema = closed(fields, required=("name", "environment", "access"))
    return {**schema, "description": _BODY_NOTE}


def _roll_request() -> Schema:
    seconds = {"type": ["integer", "null"], "minimum": 0, "maximum": _MAX_GRACE_SECONDS}
    schema = closed({"gracePeriodSeconds": seconds}, required=())
    return {**schema, "description": "The default grace period is 24 hours."}

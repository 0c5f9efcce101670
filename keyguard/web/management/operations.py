"""The operations of the management API's OpenAPI document: parameters, bodies, responses.

Each operation lists every status the routes or the middleware in front of them can answer.
"""

from __future__ import annotations

from typing import Any

from keyguard.core import AuditEventType, KeySort, KeyStatus
from keyguard.services import MAX_PAGE

from .schemas import KEY_ID_PATTERN

__all__ = ["management_operations"]

Doc = dict[str, Any]
_ERRORS = {
    "400": "Invalid input: `error.details` names each field and what is wrong with it.",
    "401": "No key, or a key that is not valid (INVALID_API_KEY).",
    "403": "A publishable key, or a key managing another environment (FORBIDDEN).",
    "404": "No such key in the caller's account (NOT_FOUND).",
    "409": "The key's state does not allow it (CONFLICT).",
    "413": "The body is over 64 KiB (PAYLOAD_TOO_LARGE).",
    "429": "Too many failed attempts from this client (RATE_LIMITED).",
    "500": "A fault on the server's side (INTERNAL_ERROR).",
    "503": "Keys cannot be checked or changed right now (SERVICE_UNAVAILABLE).",
}
_ALWAYS = ("400", "401", "403", "429", "500", "503")
_HEADER = {"schema": {"type": "string"}}


def management_operations(prefix: str, environments: tuple[str, ...]) -> Doc:
    keys, key = f"{prefix}/api-keys", f"{prefix}/api-keys/{{id}}"
    return {
        keys: {"get": _list_keys(environments), "post": _create_key()},
        key: {"get": _get_key(), "patch": _rename_key(), "delete": _delete_key()},
        key + "/roll": {"post": _roll_key()},
        f"{prefix}/audit-log": {"get": _audit_log()},
    }


def _operation(summary: str, ok: str, schema: str, *errors: str, **extra: Any) -> Doc:
    success = {
        "description": summary,
        "headers": _headers(ok),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    responses = {ok: success}
    for code in sorted({*_ALWAYS, *errors}):
        responses[code] = _error_response(code)
    return {"summary": summary, "responses": responses, **extra}


def _headers(status: str) -> Doc:
    headers: Doc = {"X-Request-ID": {**_HEADER, "required": True}}
    if status == "201":
        headers["Location"] = {**_HEADER, "required": True}
    elif status == "401":
        headers["WWW-Authenticate"] = {**_HEADER, "required": True}
    elif status in ("429", "503"):
        headers["Retry-After"] = _HEADER
    return headers


def _error_response(status: str) -> Doc:
    schema = {"$ref": "#/components/schemas/ErrorEnvelope"}
    return {
        "description": _ERRORS[status],
        "headers": _headers(status),
        "content": {"application/json": {"schema": schema}},
    }


def _query(name: str, schema: Doc, description: str) -> Doc:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": KEY_ID_PATTERN},
}
_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Default 20.")
_CURSOR = _query(
    "cursor", {"$ref": "#/components/schemas/Cursor"}, "`meta.nextCursor` of the page before."
)


def _body(schema: str, *, required: bool = True) -> Doc:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {"required": required, "content": content}


def _list_keys(environments: tuple[str, ...]) -> Doc:
    parameters = [
        _query("environment", {"enum": list(environments)}, "Only keys of this environment."),
        _query("access", {"enum": ["secret", "publishable"]}, "Only keys of this access."),
        _query("status", {"enum": [s.value for s in KeyStatus]}, "Only keys in this state."),
        _query("q", {"type": "string", "maxLength": 100}, "Name contains, case-insensitive."),
        _query("sort", {"enum": [s.value for s in KeySort]}, "Default -createdAt."),
        _LIMIT,
        _CURSOR,
    ]
    summary = "List the account's keys (metadata only)"
    return _operation(summary, "200", "APIKeyList", parameters=parameters)


def _create_key() -> Doc:
    summary = "Create a key; its value is in this response only"
    return _operation(
        summary, "201", "CreatedAPIKeyEnvelope", "409", "413", requestBody=_body("CreateAPIKey")
    )


def _get_key() -> Doc:
    return _operation("Read a key", "200", "APIKeyEnvelope", "404", parameters=[_ID])


def _rename_key() -> Doc:
    return _operation(
        "Rename a key",
        "200",
        "APIKeyEnvelope",
        "404",
        "413",
        parameters=[_ID],
        requestBody=_body("RenameAPIKey"),
    )


def _delete_key() -> Doc:
    permanent = _query(
        "permanent", {"type": "boolean"}, "true: delete a revoked key for good (409 while active)."
    )
    summary = "Revoke a key, now and for good (or, with permanent=true, delete a revoked one)"
    return _operation(summary, "200", "APIKeyEnvelope", "404", "409", parameters=[_ID, permanent])


def _roll_key() -> Doc:
    body = _body("RollAPIKey", required=False)
    summary = "Mint a successor; the old key works until the grace period ends"
    return _operation(
        summary,
        "201",
        "CreatedAPIKeyEnvelope",
        "404",
        "409",
        "413",
        parameters=[_ID],
        requestBody=body,
    )


def _audit_log() -> Doc:
    parameters = [
        _query("event", {"enum": [e.value for e in AuditEventType]}, "Only this kind of event."),
        _query("keyId", {"type": "string", "pattern": KEY_ID_PATTERN}, "Only events of this key."),
        _query("since", {"type": "string", "format": "date-time"}, "Only events at or after."),
        _LIMIT,
        _CURSOR,
    ]
    return _operation(
        "Read the account's audit log, newest first", "200", "AuditLog", parameters=parameters
    )

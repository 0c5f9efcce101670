"""The operations of the management API's OpenAPI document: which parameters, body and answers
each path and method has. Parameters and bodies are the models' (`schemas`); what is written
here is what no model holds: the summaries, and which statuses each operation can answer.

Each operation lists every status the routes or the middleware in front of them can answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .body import MAX_BODY_BYTES
from .fields import KEY_ID
from .grants import READ, WRITE
from .models import request_models
from .schemas import REF, query_parameters

__all__ = ["management_operations"]

Doc = dict[str, Any]
_ERRORS = {
    "400": "Invalid input: `error.details` names each field and what is wrong with it.",
    "401": "No key, or a key that is not valid (INVALID_API_KEY).",
    "403": (
        "A publishable key, a key managing another environment, or a restricted key without"
        " the permission the operation needs or handing out one it lacks (FORBIDDEN; then"
        ' `WWW-Authenticate: Bearer error="insufficient_scope"` names it), or a key loosening'
        " its own rate limits or changing its own quota (FORBIDDEN)."
    ),
    "404": "No such key in the caller's account (NOT_FOUND).",
    "409": "The key's state does not allow it (CONFLICT).",
    "413": f"The body is over {MAX_BODY_BYTES // 1024} KiB (PAYLOAD_TOO_LARGE).",
    "415": "A body that is not `application/json` (UNSUPPORTED_MEDIA_TYPE).",
    "429": "Too many failed attempts from this client (RATE_LIMITED).",
    "500": "A fault on the server's side (INTERNAL_ERROR).",
    "503": "Keys cannot be checked or changed right now (SERVICE_UNAVAILABLE).",
}
_ALWAYS = ("400", "401", "403", "429", "500", "503")
_NEEDS = (
    "A key with a permission set (a restricted key) needs `{need}` for this; a key without"
    " one may do it as its access allows."
)
_GIVES = (
    " A restricted key can only {verb} a key whose permissions it holds itself, never one"
    " without a permission set."
)
_UPDATE_CONFLICT = (
    "A revoked key's restrictions and limits cannot change; `allowedOrigins` is for publishable"
    " keys and `allowedNetworks` for secret keys (CONFLICT)."
)
_HEADER = {"schema": {"type": "string"}}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": f"^{KEY_ID.pattern}$"},
}


def management_operations(prefix: str, environments: tuple[str, ...]) -> Doc:
    models = request_models(environments)
    keys, key = f"{prefix}/api-keys", f"{prefix}/api-keys/{{id}}"
    return {
        keys: {"get": _list_keys(models.key_list), "post": _create_key(models.create_key)},
        key: {
            "get": _get_key(),
            "patch": _update_key(models.update_key),
            "delete": _delete_key(models.delete),
        },
        key + "/roll": {"post": _roll_key(models.roll_key)},
        f"{prefix}/audit-log": {"get": _audit_log(models.audit_log)},
    }


def _ref(name: str) -> Doc:
    return {"$ref": REF.format(model=name)}


def _operation(
    summary: str, need: str, ok: str, schema: Doc, *errors: str, gives: str = "", **extra: Any
) -> Doc:
    """One operation; `need` is the permission a restricted key needs to call it, `gives` what
    it may hand out (`_GIVES`)."""
    success = {
        "description": summary,
        "headers": _headers(ok),
        "content": {"application/json": {"schema": schema}},
    }
    responses = {ok: success}
    for code in sorted({*_ALWAYS, *errors}):
        responses[code] = _error_response(code)
    description = _NEEDS.format(need=need) + (_GIVES.format(verb=gives) if gives else "")
    return {"summary": summary, "description": description, "responses": responses, **extra}


def _headers(status: str) -> Doc:
    headers: Doc = {"X-Request-ID": {**_HEADER, "required": True}}
    if status == "201":
        headers["Location"] = {**_HEADER, "required": True}
    elif status == "401":
        headers["WWW-Authenticate"] = {**_HEADER, "required": True}
    elif status == "403":  # when a restricted key lacks a permission
        headers["WWW-Authenticate"] = _HEADER
    elif status in ("429", "503"):
        headers["Retry-After"] = _HEADER
    return headers


def _error_response(status: str) -> Doc:
    return {
        "description": _ERRORS[status],
        "headers": _headers(status),
        "content": {"application/json": {"schema": _ref("ErrorEnvelope")}},
    }


def _body(model: type[BaseModel], *, required: bool = True) -> Doc:
    return {"required": required, "content": {"application/json": {"schema": _ref(model.__name__)}}}


def _list_keys(query: type[BaseModel]) -> Doc:
    summary = "List the account's keys (metadata only)"
    parameters = query_parameters(query)
    return _operation(summary, READ, "200", _ref("APIKeyList"), parameters=parameters)


def _create_key(body: type[BaseModel]) -> Doc:
    summary = "Create a key; its value is in this response only"
    created = _ref("CreatedAPIKeyEnvelope")
    return _operation(
        summary, WRITE, "201", created, "409", "413", "415", gives="create", requestBody=_body(body)
    )


def _get_key() -> Doc:
    return _operation("Read a key", READ, "200", _ref("APIKeyEnvelope"), "404", parameters=[_ID])


def _update_key(body: type[BaseModel]) -> Doc:
    operation = _operation(
        "Rename a key, or change what it may do, where from and how much (audited)",
        WRITE,
        "200",
        _ref("APIKeyEnvelope"),
        "404",
        "409",
        "413",
        "415",
        gives="set permissions on",
        parameters=[_ID],
        requestBody=_body(body, required=False),  # no body: nothing to change, as `{}`
    )
    operation["responses"]["409"]["description"] = _UPDATE_CONFLICT
    return operation


def _delete_key(query: type[BaseModel]) -> Doc:
    summary = "Revoke a key, now and for good (or, with permanent=true, delete a revoked one)"
    either = {"oneOf": [_ref("APIKeyEnvelope"), _ref("DeletedAPIKeyEnvelope")]}
    parameters = [_ID, *query_parameters(query)]
    return _operation(summary, WRITE, "200", either, "404", "409", parameters=parameters)


def _roll_key(body: type[BaseModel]) -> Doc:
    summary = "Mint a successor; the old key works until the grace period ends"
    return _operation(
        summary,
        WRITE,
        "201",
        _ref("CreatedAPIKeyEnvelope"),
        "404",
        "409",
        "413",
        "415",
        gives="roll",
        parameters=[_ID],
        requestBody=_body(body, required=False),
    )


def _audit_log(query: type[BaseModel]) -> Doc:
    summary = "Read the account's audit log, newest first"
    parameters = query_parameters(query)
    return _operation(summary, READ, "200", _ref("AuditLog"), parameters=parameters)

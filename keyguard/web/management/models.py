"""The management API's requests and answers, described once, as types: bodies and query strings
are validated by these models, and the OpenAPI document's schemas are generated from them, so
the two cannot disagree.

pydantic v2 does the work (see the README: chosen over msgspec because it reports every wrong
field at once, by a stable error type we word ourselves). It is imported only when management
routes or their document are built: an app that only authenticates never loads it.

What a JSON Schema cannot say (lone surrogates, metadata's size in bytes) is checked by
keyguard's own validators, attached to the same types, and said in the field's description.
"""

import functools
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from keyguard.core import AuditEventType, FieldIssue, KeySort, KeyStatus, ValidationError

from .._validation_words import validation_message
from .field_types import (
    DEFAULT_GRACE_HOURS,
    AccessName,
    AnyTime,
    AuditCursor,
    ExpiryTime,
    Flag,
    GraceSeconds,
    KeyCursor,
    KeyId,
    Limit,
    Metadata,
    Name,
    Search,
)
from .restriction_types import (
    CREATE_RESTRICTION_RULES,
    NETWORKS_NOTE,
    ORIGINS_NOTE,
    PERMISSIONS_NOTE,
    NetworkList,
    OriginList,
    PermissionList,
)
from .usage_types import QUOTA_NOTE, RATE_LIMITS_NOTE, QuotaBody, RateLimitList

__all__ = [
    "AuditLogQuery",
    "CreateAPIKey",
    "DeleteQuery",
    "KeyListQuery",
    "RequestModels",
    "UpdateAPIKey",
    "read",
    "request_models",
]

M = TypeVar("M", bound=BaseModel)
DEFAULT_LIMIT = 20
_CURSOR_NOTE = (
    "`meta.nextCursor` of the page before. Opaque to clients; any string of this pattern is"
    " a place to start after, so a made-up one is not an error."
)


class _Closed(BaseModel):
    """Unknown fields are errors; JSON types are not coerced into one another."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=False)


class _Query(BaseModel):
    """A query string: every value arrives as text, so numbers and enums are read from it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


_AS_NULL = " Left out: as null."


class CreateAPIKey(_Closed):
    """A new key. `environment` is narrowed to the server's own in `request_models`."""

    model_config = ConfigDict(json_schema_extra=CREATE_RESTRICTION_RULES)

    name: Name
    environment: str
    access: AccessName
    expires_at: ExpiryTime | None = Field(None, alias="expiresAt")
    metadata: Metadata | None = None
    permissions: PermissionList | None = Field(None, description=PERMISSIONS_NOTE + _AS_NULL)
    allowed_origins: OriginList | None = Field(
        None, alias="allowedOrigins", description=ORIGINS_NOTE + _AS_NULL
    )
    allowed_networks: NetworkList | None = Field(
        None, alias="allowedNetworks", description=NETWORKS_NOTE + _AS_NULL
    )
    rate_limits: RateLimitList | None = Field(
        None, alias="rateLimits", description=RATE_LIMITS_NOTE + _AS_NULL
    )
    quota: QuotaBody | None = Field(None, description=QUOTA_NOTE + _AS_NULL)


class KeyListQuery(_Query):
    """The list's filters. `environment` is narrowed as in `CreateAPIKey`."""

    environment: str | None = Field(None, description="Only keys of this environment.")
    access: AccessName | None = Field(None, description="Only keys of this access.")
    status: KeyStatus | None = Field(None, description="Only keys in this state.")
    q: Search | None = Field(None, description="Name contains, case-insensitive.")
    sort: KeySort = Field(KeySort.CREATED_DESC, description="The order of the list.")
    limit: Limit = Field(DEFAULT_LIMIT, description="Keys per page.")
    cursor: KeyCursor | None = Field(None, description=_CURSOR_NOTE)


def _left_out(note: str = "", **alias: str) -> Any:
    """A PATCH field: left out, it stays as it is, which is not what null says; so the
    document shows no default (the None here only marks it as not given)."""
    described = {"description": f"{note} Left out: stays as it is."} if note else {}
    return Field(None, json_schema_extra=_no_default, **described, **alias)  # type: ignore[call-overload]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class UpdateAPIKey(_Closed):
    """Any of a key's name, restrictions and usage limits: a field left out stays as it is,
    a restriction set to null is lifted, `rateLimits` null is the default again, `quota` null
    is no quota, and a quota given is set anew (its count starts over)."""

    name: Name = _left_out()
    permissions: PermissionList | None = _left_out(PERMISSIONS_NOTE)
    allowed_origins: OriginList | None = _left_out(ORIGINS_NOTE, alias="allowedOrigins")
    allowed_networks: NetworkList | None = _left_out(NETWORKS_NOTE, alias="allowedNetworks")
    rate_limits: RateLimitList | None = _left_out(RATE_LIMITS_NOTE, alias="rateLimits")
    quota: QuotaBody | None = _left_out(QUOTA_NOTE)


class RollAPIKey(_Closed):
    grace_period_seconds: GraceSeconds | None = Field(
        None,
        alias="gracePeriodSeconds",
        description=f"How long the old key works on; {DEFAULT_GRACE_HOURS} hours if not given.",
    )


class AuditLogQuery(_Query):
    event: AuditEventType | None = Field(None, description="Only this kind of event.")
    key_id: KeyId | None = Field(None, alias="keyId", description="Only events of this key.")
    since: AnyTime | None = Field(None, description="Only events at or after this time.")
    limit: Limit = Field(DEFAULT_LIMIT, description="Events per page.")
    cursor: AuditCursor | None = Field(None, description=_CURSOR_NOTE)


class DeleteQuery(_Query):
    permanent: Flag = Field(
        False, description="true: delete a revoked key for good (409 while it is active)."
    )


class NoQuery(_Query):
    pass


class RequestModels(NamedTuple):
    create_key: type[CreateAPIKey]
    update_key: type[UpdateAPIKey]
    roll_key: type[RollAPIKey]
    key_list: type[KeyListQuery]
    audit_log: type[AuditLogQuery]
    delete: type[DeleteQuery]
    none: type[NoQuery]

    def read(self, model: type[M], data: Mapping[str, Any]) -> M:
        """What handlers call: `read` without importing this module (and pydantic) early."""
        return read(model, data)


@functools.cache
def request_models(environments: tuple[str, ...]) -> RequestModels:
    """The models whose types depend on the server's environments, made once per set."""
    known = Literal[environments]  # type: ignore[valid-type]

    create_key = create_model("CreateAPIKey", __base__=CreateAPIKey, environment=(known, ...))
    only = Field(None, description="Only keys of this environment.")
    key_list = create_model("KeyListQuery", __base__=KeyListQuery, environment=(known | None, only))
    return RequestModels(
        create_key, UpdateAPIKey, RollAPIKey, key_list, AuditLogQuery, DeleteQuery, NoQuery
    )


_MODELS = (CreateAPIKey, KeyListQuery, UpdateAPIKey, RollAPIKey, AuditLogQuery, DeleteQuery)
# The names inside an object field of ours (`quota.refillInterval`).
_NESTED = frozenset(field.alias or name for name, field in QuotaBody.model_fields.items())
# Every name a request of ours may hold: an error names these, never one the client made up.
_OUR_NAMES = frozenset(
    field.alias or name for model in _MODELS for name, field in model.model_fields.items()
)


def read(model: type[M], data: Mapping[str, Any]) -> M:
    """`data` as `model`, or a `ValidationError` naming every wrong field in our own words."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        where = "query" if issubclass(model, _Query) else "body"
        raise ValidationError(_issues(exc, where)) from None


def _issues(exc: PydanticValidationError, where: str) -> list[FieldIssue]:
    issues: dict[str, FieldIssue] = {}
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == "extra_forbidden":
            name = str(error["loc"][0]) if error["loc"] else where
            field = name if name in _OUR_NAMES else where  # a name they made up: never echoed
            issues.setdefault(field, FieldIssue(field, _UNKNOWN_FIELD))
            continue
        field = _path(error["loc"]) if error["loc"] else where
        issues.setdefault(field, FieldIssue(field, _message(error)))
    return list(issues.values())


def _path(loc: tuple[int | str, ...]) -> str:
    """Where the error is, as the API names it: `allowedOrigins[2]` for an item of a list,
    `quota.remaining` for a field of an object."""
    head, *rest = loc
    return str(head) + "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}"
        for step in rest
        if isinstance(step, int) or step in _NESTED
    )


def _message(error: ErrorDetails) -> str:
    if error["type"] == "keyguard":
        return str(error["msg"])
    return validation_message(error["type"], error.get("ctx"))


_UNKNOWN_FIELD = "holds a field this operation does not take (see the API's document)"

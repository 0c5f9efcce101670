"""The management API's requests and answers, described once, as types: bodies and query strings
are validated by these models, and the OpenAPI document's schemas are generated from them, so
the two cannot disagree.

pydantic v2 does the work (see the README: chosen over msgspec because it reports every wrong
field at once, by a stable error type we word ourselves). It is imported only when management
routes or their document are built: an app that only authenticates never loads it.

What a JSON Schema cannot say (a time in the future, a name's printable characters, metadata's
size) is checked by keyguard's own validators, attached to the same types.
"""

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    create_model,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from keyguard.core import (
    MAX_METADATA_BYTES,
    MAX_NAME_LENGTH,
    AuditEventType,
    FieldIssue,
    KeySort,
    KeyStatus,
    ValidationError,
    id_pattern,
    utcnow,
    validate_metadata,
    validate_name,
)
from keyguard.services import DEFAULT_GRACE, MAX_GRACE, MAX_PAGE

from .fields import rfc3339

__all__ = [
    "MAX_CURSOR_LENGTH",
    "AuditLogQuery",
    "CreateAPIKey",
    "DeleteQuery",
    "KeyListQuery",
    "RequestModels",
    "read",
    "request_models",
]

M = TypeVar("M", bound=BaseModel)
MAX_CURSOR_LENGTH = 512
DEFAULT_LIMIT = 20
_CURSOR_NOTE = "Opaque: `meta.nextCursor` of the page before."
_GRACE_SECONDS = int(MAX_GRACE.total_seconds())
_DEFAULT_GRACE_HOURS = int(DEFAULT_GRACE.total_seconds() // 3600)
_KEY_ID = id_pattern("key_")
_TIME_SCHEMA = {"type": "string", "format": "date-time"}


def _ours(check: Any) -> Any:
    """Run one of keyguard's validators; its message becomes the error's, worded by us."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except ValidationError as exc:
            raise PydanticCustomError("keyguard", exc.issues[0].message) from None

    return run


def _name(value: Any) -> str:
    # Counted before trimming too: a schema-driven client counts the characters it sends.
    if isinstance(value, str) and len(value) > MAX_NAME_LENGTH:
        raise ValidationError.single("name", f"must be at most {MAX_NAME_LENGTH} characters")
    return validate_name(value)


def _future(value: Any) -> datetime:
    at = rfc3339(value, "expiresAt")
    if at <= utcnow():
        raise ValidationError.single("expiresAt", "must be in the future")
    return at


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError.single("metadata", "must be a JSON object")
    return dict(validate_metadata(value))


def _grace(value: Any) -> int:
    # JSON Schema's "integer" includes 3600.0; bool is an int in Python, not in JSON.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not 0 <= value <= _GRACE_SECONDS:
        raise ValidationError.single(
            "gracePeriodSeconds", f"must be a whole number of seconds from 0 to {_GRACE_SECONDS}"
        )
    return value


def _limit(value: Any) -> Any:
    # Query strings are text; int() would also take "٣" or " 7".
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) < 4):
        raise PydanticCustomError("keyguard", f"must be a whole number from 1 to {MAX_PAGE}")
    return value


def _search(value: str) -> str:
    if not value.isprintable():
        raise PydanticCustomError("keyguard", "must be printable characters")
    return value


def _true_or_false(value: Any) -> bool:
    if value not in ("true", "false"):
        raise PydanticCustomError("keyguard", "must be true or false")
    return bool(value == "true")


Name = Annotated[
    str,
    PlainValidator(_ours(_name)),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "pattern": r"\S",
            "description": "Surrounding spaces are trimmed; control characters are refused.",
        }
    ),
]
FutureTime = Annotated[
    datetime,
    PlainValidator(_ours(_future)),
    WithJsonSchema({**_TIME_SCHEMA, "description": "In the future, with an offset."}),
]
AnyTime = Annotated[
    datetime,
    PlainValidator(_ours(lambda v: rfc3339(v, "since"))),
    WithJsonSchema(_TIME_SCHEMA),
]
Metadata = Annotated[
    dict[str, Any],
    PlainValidator(_ours(_metadata)),
    WithJsonSchema(
        {"type": "object", "description": f"At most {MAX_METADATA_BYTES // 1024} KiB of JSON."}
    ),
]
GraceSeconds = Annotated[
    int,
    PlainValidator(_ours(_grace)),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": _GRACE_SECONDS}),
]
AccessName = Literal["secret", "publishable"]  # a test holds it to `Access`
# The bounds before the validator: the other way round pydantic writes them into the schema
# as `ge`/`le`, which no JSON Schema reader knows.
Limit = Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(_limit)]
Search = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(_search)]
Cursor = Annotated[
    str,
    Field(max_length=MAX_CURSOR_LENGTH, pattern=f"^[A-Za-z0-9_-]{{0,{MAX_CURSOR_LENGTH}}}$"),
]
KeyId = Annotated[str, Field(pattern=f"^{_KEY_ID.pattern}$")]
Flag = Annotated[bool, PlainValidator(_true_or_false), WithJsonSchema({"type": "boolean"})]


class _Closed(BaseModel):
    """Unknown fields are errors; JSON types are not coerced into one another."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=False)


class _Query(BaseModel):
    """A query string: every value arrives as text, so numbers and enums are read from it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class CreateAPIKey(_Closed):
    """A new key. `environment` is narrowed to the server's own in `request_models`."""

    name: Name
    environment: str
    access: AccessName
    expires_at: FutureTime | None = Field(None, alias="expiresAt")
    metadata: Metadata | None = None


class KeyListQuery(_Query):
    """The list's filters. `environment` is narrowed as in `CreateAPIKey`."""

    environment: str | None = Field(None, description="Only keys of this environment.")
    access: AccessName | None = Field(None, description="Only keys of this access.")
    status: KeyStatus | None = Field(None, description="Only keys in this state.")
    q: Search | None = Field(None, description="Name contains, case-insensitive.")
    sort: KeySort = Field(KeySort.CREATED_DESC, description="The order of the list.")
    limit: Limit = Field(DEFAULT_LIMIT, description="Keys per page.")
    cursor: Cursor | None = Field(None, description=_CURSOR_NOTE)


class RenameAPIKey(_Closed):
    name: Name


class RollAPIKey(_Closed):
    grace_period_seconds: GraceSeconds | None = Field(
        None,
        alias="gracePeriodSeconds",
        description=f"How long the old key works on; {_DEFAULT_GRACE_HOURS} hours if not given.",
    )


class AuditLogQuery(_Query):
    event: AuditEventType | None = Field(None, description="Only this kind of event.")
    key_id: KeyId | None = Field(None, alias="keyId", description="Only events of this key.")
    since: AnyTime | None = Field(None, description="Only events at or after this time.")
    limit: Limit = Field(DEFAULT_LIMIT, description="Events per page.")
    cursor: Cursor | None = Field(None, description=_CURSOR_NOTE)


class DeleteQuery(_Query):
    permanent: Flag = Field(
        False, description="true: delete a revoked key for good (409 while it is active)."
    )


class NoQuery(_Query):
    pass


class RequestModels(NamedTuple):
    create_key: type[CreateAPIKey]
    rename_key: type[RenameAPIKey]
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
        create_key, RenameAPIKey, RollAPIKey, key_list, AuditLogQuery, DeleteQuery, NoQuery
    )


def read(model: type[M], data: Mapping[str, Any]) -> M:
    """`data` as `model`, or a `ValidationError` naming every wrong field in our own words."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(_issues(exc)) from None


def _issues(exc: PydanticValidationError) -> list[FieldIssue]:
    issues: dict[str, FieldIssue] = {}
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else "body"
        issues.setdefault(field, FieldIssue(field, _message(error)))
    return list(issues.values())


def _message(error: ErrorDetails) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "keyguard":
        return str(error["msg"])
    if kind in _MESSAGES:
        return _MESSAGES[kind].format(**context)
    return "is not valid here"  # pydantic's own words may quote what was sent


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "literal_error": "must be one of: {expected}",
    "enum": "must be one of: {expected}",
    "string_type": "must be a string",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "is not in the expected form",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "bool_type": "must be true or false",
    "model_type": "must be a JSON object",
}

"""The types of the management API's fields: each is what pydantic checks, the JSON Schema the
document shows for it, and, where a schema cannot say it (lone surrogates, a size in bytes),
the keyguard validator that decides.

Imported only with `models`, once management routes or their document are built.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from keyguard.core import (
    AUDIT_CURSOR,
    HIDDEN_CHARACTERS,
    KEY_CURSOR,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_NAME_LENGTH,
    ValidationError,
    has_hidden_characters,
    validate_metadata,
    validate_name,
)
from keyguard.services import DEFAULT_GRACE, MAX_GRACE, MAX_PAGE

from .fields import KEY_ID, MAX_CURSOR_LENGTH, rfc3339

__all__ = [
    "DEFAULT_GRACE_HOURS",
    "MAX_CURSOR_LENGTH",
    "METADATA_VALUE_SCHEMA",
    "AccessName",
    "AnyTime",
    "AuditCursor",
    "ExpiryTime",
    "Flag",
    "GraceSeconds",
    "KeyCursor",
    "KeyId",
    "Limit",
    "Metadata",
    "Name",
    "Search",
]

DEFAULT_GRACE_HOURS = int(DEFAULT_GRACE.total_seconds() // 3600)
_GRACE_SECONDS = int(MAX_GRACE.total_seconds())
_TIME_SCHEMA = {"type": "string", "format": "date-time"}
# As `has_hidden_characters` decides; a name also holds something other than spaces.
_VISIBLE_TEXT = f"^[^{HIDDEN_CHARACTERS}]*$"
_VISIBLE_NAME = f"^[^{HIDDEN_CHARACTERS}]*[^{HIDDEN_CHARACTERS}\\s][^{HIDDEN_CHARACTERS}]*$"


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
    if has_hidden_characters(value):
        raise PydanticCustomError("keyguard", "must not contain control or invisible characters")
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
            "pattern": _VISIBLE_NAME,
            "description": (
                "Surrounding spaces are trimmed. Control and invisible characters are refused,"
                " and so are lone surrogates (\\ud800-\\udfff), which have no UTF-8 form."
            ),
        }
    ),
]
ExpiryTime = Annotated[
    datetime,
    PlainValidator(_ours(lambda v: rfc3339(v, "expiresAt"))),
    WithJsonSchema(
        {
            **_TIME_SCHEMA,
            "description": (
                "With an offset. A time already past makes a key that is expired from the"
                " start: its expiresAt is its createdAt."
            ),
        }
    ),
]
AnyTime = Annotated[
    datetime,
    PlainValidator(_ours(lambda v: rfc3339(v, "since"))),
    WithJsonSchema(_TIME_SCHEMA),
]
_METADATA_VALUE_REF = {"$ref": "#/components/schemas/MetadataValue"}
_NO_NUL = {"pattern": "^[^\\x00]*$"}  # PostgreSQL's jsonb cannot hold one
_METADATA_OBJECT = {
    "type": "object",
    "additionalProperties": _METADATA_VALUE_REF,
    "propertyNames": _NO_NUL,
}
METADATA_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "string", **_NO_NUL},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": _METADATA_VALUE_REF},
        _METADATA_OBJECT,
    ],
}
Metadata = Annotated[
    dict[str, Any],
    PlainValidator(_ours(_metadata)),
    WithJsonSchema(
        {
            **_METADATA_OBJECT,
            "description": (
                f"Plain JSON: at most {MAX_METADATA_BYTES} bytes, nested at most"
                f" {MAX_METADATA_DEPTH} levels deep, no NUL and no lone surrogate in any string."
            ),
        }
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
Search = Annotated[
    str,
    Field(max_length=MAX_NAME_LENGTH),
    AfterValidator(_search),
    WithJsonSchema({"type": "string", "maxLength": MAX_NAME_LENGTH, "pattern": _VISIBLE_TEXT}),
]
KeyCursor = Annotated[
    str, Field(max_length=MAX_CURSOR_LENGTH, pattern=f"^(?:{KEY_CURSOR.pattern})?$")
]
AuditCursor = Annotated[str, Field(pattern=f"^(?:{AUDIT_CURSOR.pattern})?$")]
KeyId = Annotated[str, Field(pattern=f"^{KEY_ID.pattern}$")]
Flag = Annotated[bool, PlainValidator(_true_or_false), WithJsonSchema({"type": "boolean"})]

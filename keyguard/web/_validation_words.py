"""pydantic's validation errors in keyguard's words, for every edge that reads requests with
pydantic (the management API, an app's FastAPI routes). pydantic's own messages may quote what
was sent, so none of them is ever shown: a type of error we have no words for says only that
the value is not valid there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NOT_VALID_HERE", "validation_message"]

NOT_VALID_HERE = "is not valid here"
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "json_invalid": "must be valid JSON",
    "literal_error": "must be one of: {expected}",
    "enum": "must be one of: {expected}",
    "string_type": "must be a string",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "is not in the expected form",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "list_type": "must be a list",
    "too_short": "must hold at least {min_length} item(s) (null: no restriction)",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}


def validation_message(kind: str, context: Mapping[str, Any] | None) -> str:
    template = _MESSAGES.get(kind)
    if template is None:
        return NOT_VALID_HERE
    try:
        return template.format(**(context or {}))
    except (KeyError, IndexError):
        return NOT_VALID_HERE

"""Validation of what users type: names, environments, access, durations, metadata.

Every failure is a `ValidationError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from ._errors import ValidationError
from ._keyformat import Access

__all__ = [
    "HIDDEN_CHARACTERS",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DEPTH",
    "MAX_NAME_LENGTH",
    "has_hidden_characters",
    "nested_deeper_than",
    "parse_access",
    "parse_duration",
    "validate_environment",
    "validate_metadata",
    "validate_name",
]

MAX_NAME_LENGTH = 100
# What text people type (names, searches) may not hold, as the body of a regex character
# class that Python, ECMAScript and Rust read alike, so the API's schema states the very rule:
# controls (C0, DEL, C1), and the invisible characters that hide or reorder text (soft hyphen,
# zero-width and bidi controls, line and paragraph separators, the BOM). Lone surrogates too,
# which no regex in a schema can name: they have no UTF-8 form, so no store could keep them.
HIDDEN_CHARACTERS = (
    r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    r"\ufeff\ufff9-\ufffb"
)
_HIDDEN = re.compile(f"[{HIDDEN_CHARACTERS}\\ud800-\\udfff]")
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 32  # objects and lists inside one another, metadata itself included
_DURATION = re.compile(r"(\d{1,9})([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ACCESS_BY_NAME = {a.value: a for a in Access}


def validate_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str):
        raise ValidationError.single(field, "must be a string")
    # Before trimming: a tab or a line break at either end is refused, not trimmed away,
    # as the API's schema says (its pattern cannot trim).
    if has_hidden_characters(name):
        raise ValidationError.single(field, "must not contain control or invisible characters")
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= MAX_NAME_LENGTH:
        raise ValidationError.single(
            field, f"must be 1 to {MAX_NAME_LENGTH} characters, not counting surrounding spaces"
        )
    return trimmed


def has_hidden_characters(text: str) -> bool:
    return _HIDDEN.search(text) is not None


def validate_environment(environment: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(environment, str) or environment not in allowed:
        raise ValidationError.single("environment", f"must be one of: {', '.join(allowed)}")
    return environment


def parse_access(access: object) -> Access:
    found = _ACCESS_BY_NAME.get(access) if isinstance(access, str) else None
    if found is None:
        raise ValidationError.single("access", "must be secret or publishable")
    return found


def parse_duration(text: str, field: str) -> timedelta:
    """`90s`, `15m`, `24h`, `30d`, `2w` (or `0s`)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValidationError.single(
            field, "must be a number and a unit: s, m, h, d or w (e.g. 30d)"
        )
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def validate_metadata(metadata: object) -> Mapping[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise ValidationError.single("metadata", "must be a JSON object")
    if nested_deeper_than(metadata, MAX_METADATA_DEPTH):  # before any recursive work
        raise ValidationError.single(
            "metadata", f"must be nested at most {MAX_METADATA_DEPTH} levels deep"
        )
    try:
        size = len(json.dumps(metadata, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError, RecursionError):
        raise ValidationError.single("metadata", "must be plain JSON") from None
    if size > MAX_METADATA_BYTES:
        raise ValidationError.single("metadata", f"must be at most {MAX_METADATA_BYTES} bytes")
    if _unstorable(metadata):
        # PostgreSQL's jsonb refuses both, so every store refuses them alike.
        raise ValidationError.single(
            "metadata", "must not contain NUL characters or unpaired surrogates"
        )
    return metadata


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether `value` holds mappings and lists more than `limit` levels deep; without
    recursion, so no depth can exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[object] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _unstorable(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value or (not value.isascii() and not _encodes(value))
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True

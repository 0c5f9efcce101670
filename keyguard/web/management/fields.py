"""Reading named fields from a JSON body or a query string, and the checks several fields share.

`Fields` collects every problem before failing, so one 400 names each wrong field at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from starlette.datastructures import QueryParams

from keyguard.core import FieldIssue, ValidationError, id_pattern, parse_time

__all__ = ["KEY_ID", "Fields", "rfc3339"]

T = TypeVar("T")
KEY_ID = id_pattern("key_")
# RFC 3339 (what OpenAPI's `date-time` means): Python alone would also take dates, naive times
# and other ISO 8601 spellings that a schema-driven client would call invalid.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_PLACEHOLDER: Any = None  # what a field that failed reads as; `done()` raises before it is used


class Fields:
    """The fields of one JSON object or query string; anything not in `allowed` is an issue."""

    def __init__(self, source: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self._known = frozenset(allowed)
        self._source = source
        self.issues = [
            FieldIssue(n, "is not a known field") for n in source if n not in self._known
        ]

    @classmethod
    def from_query(cls, params: QueryParams, allowed: Iterable[str]) -> Fields:
        fields = cls(dict(params.items()), allowed)
        counts = Counter(name for name, _ in params.multi_items())
        fields.issues += [
            FieldIssue(name, "is given more than once")
            for name, n in counts.items()
            if n > 1 and name in fields._known
        ]
        return fields

    def required(self, name: str, parse: Callable[[Any], T]) -> T:
        if name not in self._source:
            self.issues.append(FieldIssue(name, "is required"))
            return _PLACEHOLDER  # type: ignore[no-any-return]
        return self._parse(name, parse, self._source[name])

    def optional(self, name: str, parse: Callable[[Any], T], default: T) -> T:
        """An absent field and an explicit `null` both mean the default."""
        value = self._source.get(name)
        return default if value is None else self._parse(name, parse, value)

    def _parse(self, name: str, parse: Callable[[Any], T], value: Any) -> T:
        try:
            return parse(value)
        except ValidationError as exc:
            # The validators name their own field; the caller knows it by this name.
            self.issues.extend(FieldIssue(name, issue.message) for issue in exc.issues)
            return _PLACEHOLDER  # type: ignore[no-any-return]

    def done(self) -> None:
        if self.issues:
            raise ValidationError(self.issues)


def rfc3339(value: object, field: str) -> datetime:
    """An RFC 3339 time with an offset, in UTC, to the millisecond (what the API prints)."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValidationError.single(field, "must be an RFC 3339 time, e.g. 2030-01-01T00:00:00Z")
    try:
        at = parse_time(value.upper())
    except (ValueError, OverflowError):
        raise ValidationError.single(field, "is not a time that exists") from None
    return at.replace(microsecond=at.microsecond // 1000 * 1000)

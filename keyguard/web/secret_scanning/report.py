"""A secret-scanning report as GitHub sends it, and the answer it expects.

    POST [{"token": "...", "type": "keyguard_secret_key", "url": "https://...",
           "source": "content"}]
    200  [{"token_hash": "<sha256 hex>", "token_type": "keyguard_secret_key",
           "label": "true_positive" | "false_positive"}]

The body is parsed only after its signature checked out, and within bounds even so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from keyguard.core import FieldIssue, ValidationError

__all__ = ["MAX_TOKENS", "ReportedToken", "answer_body", "parse_report"]

MAX_TOKENS = 1000
_LIMITS = {"token": 512, "type": 200, "url": 2048, "source": 100}
_REQUIRED = ("token", "type")


class ReportedToken(NamedTuple):
    token: str
    type: str
    url: str | None
    source: str | None


def parse_report(body: bytes, *, max_tokens: int = MAX_TOKENS) -> list[ReportedToken]:
    """The tokens of a report; a `ValidationError` naming the first thing that is wrong."""
    try:  # a signed body, so no depth pre-scan: the item checks below allow two levels only
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise ValidationError.single("body", "must be a JSON array of reported tokens") from None
    if not isinstance(parsed, list) or not parsed:
        raise ValidationError.single("body", "must be a JSON array of reported tokens")
    if len(parsed) > max_tokens:
        raise ValidationError.single("body", f"must report at most {max_tokens} tokens")
    return [_token(i, item) for i, item in enumerate(parsed)]


def _token(index: int, item: object) -> ReportedToken:
    if not isinstance(item, Mapping):
        raise ValidationError.single(f"[{index}]", "must be an object")
    issues = list(_issues(index, item))
    if issues:
        raise ValidationError(issues)
    return ReportedToken(item["token"], item["type"], item.get("url"), item.get("source"))


def _issues(index: int, item: Mapping[str, Any]) -> Iterable[FieldIssue]:
    for name, limit in _LIMITS.items():
        value = item.get(name)
        if value is None and name not in _REQUIRED:
            continue
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            yield FieldIssue(f"[{index}].{name}", f"must be a string of 1 to {limit} characters")


def answer_body(answers: Iterable[tuple[ReportedToken, bool]]) -> bytes:
    """GitHub's feedback: per token, its SHA-256 (never the token) and whether it was ours."""
    return json.dumps(
        [
            {
                "token_hash": hashlib.sha256(reported.token.encode("utf-8", "replace")).hexdigest(),
                "token_type": reported.type,
                "label": "true_positive" if ours else "false_positive",
            }
            for reported, ours in answers
        ],
        separators=(",", ":"),
    ).encode()

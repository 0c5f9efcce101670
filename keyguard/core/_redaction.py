"""Key values out of logs and URLs: anything shaped like a key (its public format: access,
environment, 32 random characters and a 6-character checksum) becomes `prefix…last4`.

`KeyRedactingFilter` is a `logging.Filter` for any logger or handler: uvicorn's access log prints
the URL, and a client that put its key in the query string or the path would leave it there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["KEY_IN_TEXT", "KEY_IN_URL", "KeyRedactingFilter", "redact_keys"]

_SHAPE = r"(?<![0-9A-Za-z])([sp]k_[a-z]+_)[0-9A-Za-z]{34}([0-9A-Za-z]{4})(?![0-9A-Za-z])"
KEY_IN_URL = re.compile(_SHAPE.encode())  # for a raw query string: refused when it matches
# For what is only redacted, looser: a key run into more letters or digits (a truncated or
# glued URL) and a percent-encoded one (`sk%5Flive%5F...`, as a raw path logs it) are cut too.
_SEPARATOR = "(?:_|%5[Ff])"
KEY_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])([sp]k{_SEPARATOR}[a-z]+{_SEPARATOR})[0-9A-Za-z]{{34,}}([0-9A-Za-z]{{4}})"
)


def redact_keys(text: str) -> str:
    """`text` with every key-shaped run shown as `sk_live_…AbCd`."""
    if "k_" not in text and "%5" not in text:  # nearly every log line: no regex run
        return text
    return KEY_IN_TEXT.sub(r"\1…\2", text)


class KeyRedactingFilter(logging.Filter):
    """Rewrites key-shaped text in a record's message and arguments; never drops a record.

    `logging.getLogger("uvicorn.access").addFilter(KeyRedactingFilter())`, or in a dictConfig:
    `"filters": {"keys": {"()": "keyguard.KeyRedactingFilter"}}` on each handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_keys(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return True


def _redacted(value: Any) -> Any:
    return redact_keys(value) if isinstance(value, str) else value

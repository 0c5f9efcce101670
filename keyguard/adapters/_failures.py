"""Why a connection failed, in words an operator can act on ("connection refused", "host not
found"), for error lines and logs alike: a class name such as `gaierror` tells them nothing.

Words only, never the URL (callers add it, masked), so no password can slip in here."""

from __future__ import annotations

import errno
import os
import re
import socket

__all__ = ["network_failure", "one_line"]

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ETIMEDOUT: "no answer in time",
}
# asyncio joins the failures of every address a name resolved to into one OSError, errno None.
_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")
_CHAIN_LIMIT = 5  # drivers wrap the socket's error once or twice; never loop on a cycle


def network_failure(exc: BaseException) -> str | None:
    """Words for the socket-level failure behind `exc` (drivers wrap it in their own
    errors), or None when there is none."""
    cause: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if cause is None:
            return None
        words = _words(cause)
        if words is not None:
            return words
        cause = cause.__cause__ or cause.__context__
    return None


def _words(exc: BaseException) -> str | None:
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if not isinstance(exc, OSError):
        return None
    codes = {exc.errno} if exc.errno else {int(c) for c in _ERRNO_IN_TEXT.findall(str(exc))}
    if len(codes) != 1:
        return None
    code = codes.pop()
    return _ERRNO_WORDS.get(code) or os.strerror(code).lower()


def one_line(text: str) -> str:
    return " ".join(text.split())

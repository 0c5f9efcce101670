"""Auth events: one logfmt line per refusal on the `keyguard.events` logger, at INFO, named
after OWASP's Application Logging Vocabulary, and capped per event name so a flood of garbage
cannot flood the log.

A line never holds a key value. A refused *valid* key shows its id and `prefix…last4`, as the
admin page does. An invalid one shows nothing of itself: it may be a typo of someone's real key,
a key from another deployment, or a revoked one (the verifier does not say which), and its last
four characters would be four characters of that secret, with nothing to look them up by.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

from starlette.types import Scope

from keyguard.core import KeyRecord, redact_keys

from ._json import request_id
from ._responses import Rejection

__all__ = ["EVENTS_LOGGER", "AuthEventLog", "logfmt_value"]

EVENTS_LOGGER = "keyguard.events"
PER_SECOND = 20
_LONGEST_PATH = 256

# From the OWASP Application Logging Vocabulary Cheat Sheet. Its `authn_token_*` events are
# about a token's lifecycle (created, revoked, deleted; `reuse` needs to know a token was
# revoked, which the verifier's one generic 401 deliberately does not tell), so a refused key
# is a failed login, and the failed-attempt limiter's 429 is its `authn_login_fail_max`.
_AUTHN_FAIL = "authn_login_fail"
_AUTHZ_FAIL = "authz_fail"
_EXCESS = "excess_rate_limit_exceeded"
# The vocabulary has no event for "could not check": its `sys_*` events are the system's own
# (startup, shutdown, crash, monitors), so a 503 is named in that family, for the system, not
# the client.
_UNAVAILABLE = "sys_unavailable"
EVENT_BY_REASON = {
    "missing": _AUTHN_FAIL,
    "invalid": _AUTHN_FAIL,
    "key_in_url": _AUTHN_FAIL,
    "rate_limited": "authn_login_fail_max",
    "forbidden": _AUTHZ_FAIL,
    "unlisted_route": _AUTHZ_FAIL,
    "wrong_origin": _AUTHZ_FAIL,
    "wrong_network": _AUTHZ_FAIL,
    "from_browser": _AUTHZ_FAIL,
    "missing_permissions": _AUTHZ_FAIL,
    "over_rate": _EXCESS,
    "quota_spent": _EXCESS,
    "unavailable": _UNAVAILABLE,
    "uncounted": _UNAVAILABLE,
}
_EVENT_BY_STATUS = {401: _AUTHN_FAIL, 403: _AUTHZ_FAIL, 429: _EXCESS, 503: _UNAVAILABLE}

# Left bare: printable ASCII but space, `"`, `\` and `=`, and the ellipsis of `prefix…last4`.
_BARE = re.compile(r"[!#-<>-\[\]-~…]+")
# Escaped inside quotes: `"`, `\`, and all that is not printable ASCII (control characters,
# line and paragraph separators, bidirectional overrides), so no value can end a line or a field.
_ESCAPED = re.compile(r"[^ !#-\[\]-~…]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    known = _ESCAPES.get(char)
    if known is not None:
        return known
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def logfmt_value(value: str) -> str:
    """`value` as one logfmt value: bare when that is unambiguous, else quoted and escaped."""
    if _BARE.fullmatch(value):
        return value
    return '"' + _ESCAPED.sub(_escape, value) + '"'


class _Budget:
    """One event name's lines in the current one-second window, and what it held back."""

    __slots__ = ("armed", "suppressed", "used", "window")

    def __init__(self) -> None:
        self.window = -1
        self.used = 0
        self.suppressed = 0
        self.armed = False  # a timer will report what is held back when the window turns


class AuthEventLog:
    """Built once per middleware. `note` costs a counter when its event is over budget;
    memory is one budget per event name, and the names are a fixed set."""

    def __init__(
        self,
        client_address: Callable[[Scope], str],
        *,
        per_second: int = PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logging.getLogger(EVENTS_LOGGER)
        self._client_address = client_address
        self._per_second = per_second
        self._clock = clock
        names = {*EVENT_BY_REASON.values(), *_EVENT_BY_STATUS.values()}
        self._budgets = {name: _Budget() for name in names}

    def note(self, scope: Scope, rejection: Rejection, record: KeyRecord | None) -> None:
        """Log one refusal, unless its event is over budget this second."""
        if not self.logger.isEnabledFor(logging.INFO):
            return
        event = EVENT_BY_REASON.get(rejection.reason) or _EVENT_BY_STATUS.get(
            rejection.status, _AUTHN_FAIL
        )
        budget = self._budgets[event]
        window = int(self._clock())
        if budget.window != window:
            self._report(event, budget)
            budget.window, budget.used = window, 0
        if budget.used >= self._per_second:
            budget.suppressed += 1
            if not budget.armed:
                self._arm(event, budget)
            return
        budget.used += 1
        self._log(event, self._fields(scope, rejection, record))

    def _fields(
        self, scope: Scope, rejection: Rejection, record: KeyRecord | None
    ) -> dict[str, str]:
        # Redacted whole, then cut: a cut key would escape the pattern.
        path = redact_keys(scope.get("path", ""))[:_LONGEST_PATH]
        return {
            "reason": rejection.reason or "-",
            "code": str(rejection.code),
            "status": str(rejection.status),
            "request_id": request_id(scope),
            "client": self._client_address(scope),
            "key_id": record.id if record is not None else "-",
            "key": f"{record.prefix}…{record.last4}" if record is not None else "-",
            "method": scope.get("method", "GET"),
            "path": path,
        }

    def _log(self, event: str, fields: dict[str, str]) -> None:
        line = " ".join(f"{name}={logfmt_value(value)}" for name, value in fields.items())
        extra = {"keyguard_event": {"event": event, **fields}}
        self.logger.info("event=%s %s", event, line, extra=extra)

    def _report(self, event: str, budget: _Budget) -> None:
        if budget.suppressed:
            suppressed, budget.suppressed = budget.suppressed, 0
            extra = {"keyguard_event": {"event": event, "suppressed": suppressed}}
            self.logger.info("event=%s suppressed=%d", event, suppressed, extra=extra)

    def _arm(self, event: str, budget: _Budget) -> None:
        """Report what this window held back when it turns, even if no refusal follows."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next line of this event reports it
            return
        budget.armed = True
        loop.call_later(budget.window + 1 - self._clock(), self._turn, event, budget)

    def _turn(self, event: str, budget: _Budget) -> None:
        budget.armed = False
        if int(self._clock()) == budget.window:  # woken early: wait for the turn
            self._arm(event, budget)
        elif budget.suppressed:
            self._report(event, budget)

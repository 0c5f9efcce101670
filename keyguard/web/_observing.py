"""The middleware's side of the `Observer` hooks: bound only when an observer is set, so a
guard without one runs the middleware's plain paths."""

from __future__ import annotations

from typing import Protocol

from starlette.types import Receive, Scope, Send

from keyguard.core import KeyRecord
from keyguard.ports import Decision, Observer
from keyguard.services import hook_failed

from ._identities import Identity
from ._responses import Rejection

__all__ = ["ObservedPaths", "refusal_decision"]

_UNKNOWN = "unknown"


def refusal_decision(rejection: Rejection, record: KeyRecord | None) -> Decision:
    """A refusal as a decision: a valid key refused keeps its access and environment."""
    code = str(rejection.code)  # the bare name, not the enum: for labels and attributes
    reason, status = rejection.reason, rejection.status
    if record is None:
        return Decision(False, reason, code, status, _UNKNOWN, _UNKNOWN, None)
    return Decision(False, reason, code, status, record.access.value, record.environment, record.id)


class ObservedPaths:
    """Stand-ins for the middleware's bound methods that also report. A local hit makes one
    hook call, `hit`, with a decision worked out with the key's identity; a key the local
    cache knew but the fast path could not let in (a restricted or limited key, a route it may
    not call) is answered "local" here, then decided on its longer path.

    A hook that raises is logged once and ignored: observing must not turn an answer into a
    500. (The `try` costs nothing until something raises.)"""

    def __init__(self, observer: Observer, middleware: _Paths) -> None:
        # Bound once: a local hit then looks up no observer attribute.
        self._verifying = observer.verifying
        self._hit = observer.hit
        self._answered = observer.answered
        self._decided = observer.decided
        self._plain_attach = middleware._attach
        self._plain_admit = middleware._admit
        self._plain_let_in = middleware._let_in

    def verifying(self, request_id: str) -> None:
        try:
            self._verifying(request_id)
        except Exception:
            hook_failed("verifying")

    def hit(self, scope: Scope, who: Identity) -> None:
        try:
            self._hit(who.accepted)
        except Exception:
            hook_failed("hit")
        self._plain_attach(scope, who)

    def attach(self, scope: Scope, who: Identity) -> None:
        self._decide(who.accepted)
        self._plain_attach(scope, who)

    def refused(self, rejection: Rejection, record: KeyRecord | None) -> None:
        self._decide(refusal_decision(rejection, record))

    def _decide(self, decision: Decision) -> None:
        try:
            self._decided(decision)
        except Exception:
            hook_failed("decided")

    async def admit_cached(self, scope: Scope, receive: Receive, send: Send, who: Identity) -> None:
        self._local()
        await self._plain_admit(scope, receive, send, who)

    async def let_in_cached(
        self, scope: Scope, receive: Receive, send: Send, record: KeyRecord
    ) -> None:
        self._local()
        await self._plain_let_in(scope, receive, send, record)

    def _local(self) -> None:
        try:
            self._answered("local")
        except Exception:
            hook_failed("answered")


class _Paths(Protocol):
    """The middleware's methods that `ObservedPaths` stands in for."""

    def _attach(self, scope: Scope, who: Identity) -> None: ...

    async def _admit(self, scope: Scope, receive: Receive, send: Send, who: Identity) -> None: ...

    async def _let_in(
        self, scope: Scope, receive: Receive, send: Send, record: KeyRecord
    ) -> None: ...

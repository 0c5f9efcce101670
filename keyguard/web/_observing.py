"""The middleware's side of the `Observer` hooks: bound only when an observer is set, so a
guard without one runs the middleware's plain paths."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope

from keyguard.core import KeyRecord
from keyguard.ports import Decision, Observer

from ._identities import Identity
from ._responses import Rejection

__all__ = ["ObservedPaths", "refused"]

_UNKNOWN = "unknown"


def refused(rejection: Rejection, record: KeyRecord | None) -> Decision:
    """A refusal as a decision: a valid key refused keeps its access and environment."""
    code = str(rejection.code)  # the bare name, not the enum: for labels and attributes
    reason, status = rejection.reason, rejection.status
    if record is None:
        return Decision(False, reason, code, status, _UNKNOWN, _UNKNOWN, None)
    return Decision(False, reason, code, status, record.access.value, record.environment, record.id)


class ObservedPaths:
    """Stand-ins for the middleware's bound `cached` and `attach` that also report. Each
    costs one call more than the plain one on a local hit: all the decision's fields were
    worked out with the key's identity."""

    def __init__(
        self,
        observer: Observer,
        cached: Callable[[bytes], KeyRecord | None],
        attach: Callable[[Scope, Identity], None],
    ) -> None:
        # The hooks bound once: a local hit then looks up no observer attribute.
        self._answered = observer.answered
        self._decided = observer.decided
        self._plain_cached = cached
        self._plain_attach = attach

    def cached(self, digest: bytes) -> KeyRecord | None:
        record = self._plain_cached(digest)
        if record is not None:
            self._answered("local")
        return record

    def attach(self, scope: Scope, who: Identity) -> None:
        self._decided(who.accepted)
        self._plain_attach(scope, who)

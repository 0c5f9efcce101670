"""`APIKeyMiddleware`: every `http` and `websocket` request carries a valid key or is refused.

Pure ASGI, like Starlette's own middleware: everything reusable is built in `__init__`; a
rejection is a small ASGI app sent in the app's place, never an exception. A local-cache hit
does no I/O and no allocation beyond the scope entries it sets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import (
    KEY_IN_URL,
    Access,
    AccessPolicy,
    CredentialProblem,
    KeyguardError,
    KeyRecord,
    candidate_key,
    extract_key,
)
from keyguard.ports import FailureLimiter, Slot
from keyguard.services import Miss, Verdict

from ._asgi_wrappers import with_sunset
from ._envelope import REALM_KEY
from ._json import request_id
from ._lifespan import run_lifespan
from ._refusals import Refusal, Refusals
from ._responses import Rejection
from ._user import APIKeyUser, credentials_for

__all__ = ["APIKeyMiddleware"]

logger = logging.getLogger(__name__)
_SECRET = Access.SECRET
_MAX_IDENTITIES = 10_000
OnError = Callable[[Scope, Rejection], Awaitable[None] | None]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class _Attempt:
    """One request's claim on its client's failure budget, taken only if the store must be
    asked: a client over its limit is refused lookups, not keys a cache vouches for."""

    __slots__ = ("client", "limiter", "retry_after", "slot")

    def __init__(self, limiter: FailureLimiter, client: str) -> None:
        self.limiter = limiter
        self.client = client
        self.slot: Slot | None = None
        self.retry_after = 0.0

    async def admit(self) -> bool:
        got = await self.limiter.acquire(self.client)
        if isinstance(got, Slot):
            self.slot = got
            return True
        self.retry_after = got
        return False


class APIKeyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        guard: KeyGuard,
        public_paths: Iterable[str] = (),
        publishable_routes: Iterable[str] = (),
        require_environment: str | None = None,
        accept_x_api_key: bool = False,
        failure_limiter: FailureLimiter | None = None,
        client_address: Callable[[Scope], str] = client_address,
        on_error: OnError | None = None,
        realm: str = "api",
    ) -> None:
        self.app = app
        self.guard = guard
        self.verifier = guard.verifier
        self.policy = AccessPolicy(
            publishable_routes=tuple(publishable_routes), public_paths=tuple(public_paths)
        )
        if not self.policy.publishable_routes:
            logger.info("no publishable_routes: pk_* keys are refused everywhere (403)")
        if require_environment not in (None, *guard.key_format.environments):
            raise ValueError(f"unknown environment {require_environment!r}")
        self.require_environment = require_environment
        self.accept_x_api_key = accept_x_api_key
        self.limiter = failure_limiter or guard.failure_limiter  # shared when Redis is
        self.client_address = client_address
        self.on_error = on_error
        self.realm = realm
        self.refusals = Refusals(realm)
        self._new_digest = guard.hasher.new
        self._cached = guard.verifier.cached
        self._allows = self.policy.allows
        self._has_public_paths = bool(self.policy.public_paths)
        # The cache-first path reads only Authorization (X-API-Key needs the duplicate check)
        # and decides only where no environment is required.
        self._cache_first = not accept_x_api_key and require_environment is None
        self._identities: dict[str, tuple[KeyRecord, AuthCredentials, APIKeyUser]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            if kind == "lifespan":
                return await run_lifespan(self.app, self.guard, scope, receive, send)
            return await self.app(scope, receive, send)
        if self._has_public_paths and self.policy.is_public(
            scope.get("method", "GET"), scope["path"]
        ):
            scope[REALM_KEY] = self.realm  # for whatever answers it 401 further in
            return await self.app(scope, receive, send)
        query = scope.get("query_string")
        # `k_` first: most query strings hold none, and skip the regex. No lookup: it is burnt.
        if query and b"k_" in query and KEY_IN_URL.search(query):
            return await self._reject(scope, receive, send, Refusal.KEY_IN_URL)
        if self._cache_first:
            # A key in the local cache, found by the digest of the raw header bytes: no parsing,
            # no await. A match proves the bytes are that key; all else goes the long way.
            candidate = candidate_key(scope["headers"])
            if candidate is not None:
                record = self._cached(self._new_digest(candidate).digest())
                if (
                    record is not None
                    and record.replaced_by is None
                    and (
                        record.access is _SECRET
                        or self._allows(record.access, scope.get("method", "GET"), scope["path"])
                    )
                ):
                    self._attach(scope, record)
                    return await self.app(scope, receive, send)
        return await self._call_slowly(scope, receive, send)

    async def _call_slowly(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")  # a websocket handshake is a GET
        outcome = await self._authenticate(scope)
        if not isinstance(outcome, KeyRecord):
            return await self._reject(scope, receive, send, *outcome)
        if not self._may(outcome, method, scope["path"]):
            return await self._reject(scope, receive, send, Refusal.FORBIDDEN)
        self._attach(scope, outcome)
        if outcome.replaced_by is not None:
            send = with_sunset(send, outcome)
        return await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> KeyRecord | tuple[Refusal, float]:
        if not self.guard.started and not await self._start_guard():
            return Refusal.UNAVAILABLE, 0.0
        token = extract_key(scope["headers"], accept_x_api_key=self.accept_x_api_key)
        if not isinstance(token, str):
            if token is CredentialProblem.MISSING:  # no guess made: not counted as a failure
                return Refusal.MISSING, 0.0
            return await self._failure(scope)
        result = self.verifier.check_cached(token)
        if isinstance(result, Miss):
            gate = _Attempt(self.limiter, self.client_address(scope))
            # A lookup cut short (the client hung up, say) keeps its slot: a failure.
            result = await self.verifier.fill(result.digest, result.token, gate)
            if gate.slot is not None and result is not Verdict.INVALID:
                await self.limiter.release(gate.slot)  # not a failure after all
            if result is Verdict.LIMITED:
                return Refusal.RATE_LIMITED, gate.retry_after
            if result is Verdict.INVALID and gate.slot is not None:
                return Refusal.INVALID, 0.0  # its slot already counted the failure
        if result is Verdict.UNAVAILABLE:
            return Refusal.UNAVAILABLE, 0.0
        if isinstance(result, Verdict):
            return await self._failure(scope)
        return result

    async def _failure(self, scope: Scope) -> tuple[Refusal, float]:
        wait = await self.limiter.record_failure(self.client_address(scope))
        return (Refusal.RATE_LIMITED, wait) if wait else (Refusal.INVALID, 0.0)

    def _may(self, record: KeyRecord, method: str, path: str) -> bool:
        if self.require_environment is not None and record.environment != self.require_environment:
            return False
        return record.access is _SECRET or self.policy.allows(record.access, method, path)

    def _attach(self, scope: Scope, record: KeyRecord) -> None:
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["api_key"] = record
        # One AuthCredentials and APIKeyUser per record, not per request; both are immutable.
        memo = self._identities.get(record.id)
        if memo is None or memo[0] is not record:
            if len(self._identities) >= _MAX_IDENTITIES:
                self._identities.clear()
            memo = self._identities[record.id] = (
                record,
                credentials_for(record),
                APIKeyUser(record),
            )
        scope["auth"] = memo[1]
        scope["user"] = memo[2]
        # For a 403 the app answers (`@requires`) with an insufficient_scope challenge.
        scope[REALM_KEY] = self.realm

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, refusal: Refusal, wait: float = 0.0
    ) -> None:
        rejection = self.refusals.make(refusal, request_id(scope), wait)
        # Not the path: the client chose it, and a key pasted into a URL must not reach the log.
        logger.debug("refused a request: %d %s", rejection.status, rejection.code)
        if self.on_error is not None:
            outcome = self.on_error(scope, rejection)
            if outcome is not None:
                await outcome
        await rejection(scope, receive, send)

    async def _start_guard(self) -> bool:
        try:
            await self.guard.start(wait=False)  # a request is waiting: no `start_wait` here
        except KeyguardError as exc:
            logger.error("keyguard cannot start: %s", exc)
            return False
        return True

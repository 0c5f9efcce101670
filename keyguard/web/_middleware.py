"""`APIKeyMiddleware`: every `http` and `websocket` request carries a valid key or is refused.

Pure ASGI, like Starlette's own middleware: everything reusable is built in `__init__`; a
rejection is a small ASGI app sent in the app's place, never an exception. A local-cache hit
does no I/O and no allocation beyond the scope entries it sets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import (
    KEY_IN_URL,
    Access,
    AccessPolicy,
    CredentialProblem,
    KeyRecord,
    browser_signal,
    candidate_key,
    extract_key,
)
from keyguard.ports import FailureLimiter
from keyguard.services import Miss, UsagePlan, Verdict

from ._asgi_wrappers import with_headers, with_sunset
from ._auth_events import AuthEventLog
from ._cors import answer_preflight, preflight_origin, with_cors
from ._envelope import REALM_KEY
from ._identities import Identities, Identity
from ._json import request_id
from ._lifespan import run_lifespan, start_for_request
from ._observing import ObservedPaths
from ._refusals import Refusal, Refusals
from ._request_facts import Attempt, client_address, request_origin_header
from ._responses import Rejection
from ._route_gate import RouteGate

__all__ = ["APIKeyMiddleware"]

logger = logging.getLogger(__name__)
_SECRET = Access.SECRET
OnError = Callable[[Scope, Rejection], Awaitable[None] | None]


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
        route_permissions: Mapping[str, str | Iterable[str]] | None = None,
        refuse_secret_keys_from_browsers: bool = True,
        cors: bool = True,
        auth_events: bool = True,
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
        self.auth_events = AuthEventLog(client_address) if auth_events else None
        self._compile(route_permissions, refuse_secret_keys_from_browsers, cors)

    def _compile(
        self,
        route_permissions: Mapping[str, str | Iterable[str]] | None,
        refuse_browsers: bool,
        cors: bool,
    ) -> None:
        """What every request reads, bound once."""
        self._new_digest = self.guard.hasher.new
        self._cached = self.verifier.cached
        self._allows = self.policy.allows
        self._has_public_paths = bool(self.policy.public_paths)
        # The cache-first path reads only Authorization (X-API-Key needs the duplicate check)
        # and decides only where no environment is required.
        self._cache_first = not self.accept_x_api_key and self.require_environment is None
        self._identity = Identities(self.guard.usage, refuse_browsers=refuse_browsers, cors=cors).of
        self._count = self.guard.usage.decide
        self.route_gate = RouteGate(route_permissions, self.refusals)  # for restricted keys
        self._cors = cors
        self._note_refusal = self.guard.refusal_log.note
        observer = self.guard.observer
        self._observed = observed = None if observer is None else ObservedPaths(observer, self)
        tracks = observer is not None and observer.tracks_requests
        self._verifying = observed.verifying if observed is not None and tracks else None
        if observed is not None:  # else the plain paths, untouched
            self._hit, self._attach = observed.hit, observed.attach  # type: ignore[method-assign]
            self._admit_cached, self._let_in_cached = observed.admit_cached, observed.let_in_cached
        else:  # the very methods: nothing in between
            self._hit, self._admit_cached = self._attach, self._admit
            self._let_in_cached = self._let_in

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
        if self._cors and scope.get("method") == "OPTIONS" and await self._preflight(scope, send):
            return None
        if self._verifying is not None:
            self._verifying(request_id(scope))
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
                if record is not None:
                    if record.replaced_by is None and (
                        record.access is _SECRET
                        or self._allows(record.access, scope.get("method", "GET"), scope["path"])
                    ):
                        identity = self._identity(record)
                        if identity.plain and (
                            identity.rules is None or browser_signal(scope["headers"]) is None
                        ):
                            self._hit(scope, identity)
                            return await self.app(scope, receive, send)
                        return await self._admit_cached(scope, receive, send, identity)
                    # Not for the fast path (rolled; a route it may not call): no second lookup.
                    return await self._let_in_cached(scope, receive, send, record)
        return await self._call_slowly(scope, receive, send)

    async def _preflight(self, scope: Scope, send: Send) -> bool:
        """Answer a browser's CORS preflight for a publishable route; False for anything else."""
        asked = preflight_origin(scope)
        return asked is not None and await answer_preflight(
            scope, send, self.policy, *asked, x_api_key=self.accept_x_api_key
        )

    async def _call_slowly(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = await self._authenticate(scope)
        if not isinstance(outcome, KeyRecord):
            return await self._reject(scope, receive, send, *outcome)
        return await self._let_in(scope, receive, send, outcome)

    async def _let_in(self, scope: Scope, receive: Receive, send: Send, record: KeyRecord) -> None:
        """A valid key: refused if it may not call this route, else on to `_admit`."""
        method = scope.get("method", "GET")  # a websocket handshake is a GET
        if not self._may(record, method, scope["path"]):
            return await self._reject(scope, receive, send, Refusal.FORBIDDEN, record=record)
        return await self._admit(scope, receive, send, self._identity(record))

    async def _admit(self, scope: Scope, receive: Receive, send: Send, who: Identity) -> None:
        """A valid key allowed on this route: checked against its restrictions, then let in."""
        rules = who.rules
        if rules is not None:
            misplaced = rules.misplaced(scope, self.client_address)
            if misplaced is not None:  # a valid key in the wrong place: not a failed attempt
                self._note_refusal(who.record, misplaced.event, misplaced.data, request_id(scope))
                refusal = misplaced.refusal
                return await self._reject(scope, receive, send, refusal, record=who.record)
            if rules.permissions is not None:
                no = self.route_gate.refuses(scope, rules.permissions)
                if isinstance(no, Refusal):
                    return await self._reject(scope, receive, send, no, record=who.record)
                if no is not None:
                    return await self._send_rejection(scope, receive, send, no, who.record)
            if rules.cors:
                send = with_cors(send, request_origin_header(scope))
        if who.usage is not None:
            counted = await self._count_use(scope, receive, send, who.usage, who.record)
            if counted is None:
                return None
            send = counted
        self._attach(scope, who)
        if who.record.replaced_by is not None:
            send = with_sunset(send, who.record)
        return await self.app(scope, receive, send)

    async def _count_use(
        self, scope: Scope, receive: Receive, send: Send, plan: UsagePlan, record: KeyRecord
    ) -> Send | None:
        """Count the request against the key's limits (after every other check: a refused
        request costs none of them): the send that adds the RateLimit fields, or None when a
        refusal went out instead."""
        decision = await self._count(plan)
        if decision is None:  # cannot be counted, and the settings say fail closed
            await self._reject(scope, receive, send, Refusal.UNCOUNTED, record=record)
            return None
        headers = plan.headers(decision)
        if not decision.admitted:
            rejection = self.refusals.over_limit(decision.quota_spent, headers, request_id(scope))
            await self._send_rejection(scope, receive, send, rejection, record)
            return None
        return with_headers(send, headers)

    async def _authenticate(self, scope: Scope) -> KeyRecord | tuple[Refusal, float]:
        if not self.guard.started and not await start_for_request(self.guard):
            return Refusal.UNAVAILABLE, 0.0
        token = extract_key(scope["headers"], accept_x_api_key=self.accept_x_api_key)
        if not isinstance(token, str):
            if token is CredentialProblem.MISSING:  # no guess made: not counted as a failure
                return Refusal.MISSING, 0.0
            return await self._failure(scope)
        result = self.verifier.check_cached(token)
        if isinstance(result, Miss):
            gate = Attempt(self.limiter, self.client_address(scope))
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

    def _attach(self, scope: Scope, who: Identity) -> None:
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["api_key"] = who.record
        scope["auth"] = who.credentials
        scope["user"] = who.user
        # For a 403 the app answers (`@requires`) with an insufficient_scope challenge.
        scope[REALM_KEY] = self.realm

    async def _reject(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        refusal: Refusal,
        wait: float = 0.0,
        record: KeyRecord | None = None,  # a valid key refused: for the auth event
    ) -> None:
        rejection = self.refusals.make(refusal, request_id(scope), wait)
        await self._send_rejection(scope, receive, send, rejection, record)

    async def _send_rejection(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rejection: Rejection,
        record: KeyRecord | None = None,
    ) -> None:
        if self.auth_events is not None:
            self.auth_events.note(scope, rejection, record)
        if self._observed is not None:
            self._observed.refused(rejection, record)
        if self.on_error is not None:
            outcome = self.on_error(scope, rejection)
            if outcome is not None:
                await outcome
        await rejection(scope, receive, send)

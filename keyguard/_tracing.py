"""`TracingObserver`, as `keyguard.tracing` exports it: see that module's docstring. Kept apart
so that the public module's names are its API alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "keyguard.tracing needs OpenTelemetry: pip install 'keyguard[tracing]'"
    ) from exc

from keyguard import __version__
from keyguard.adapters import PostgresKeyStore, SQLiteKeyStore
from keyguard.ports import Decision, Gauges, Observer

__all__ = ["TracingObserver"]

logger = logging.getLogger(__name__)

_INTERNAL, _CLIENT = trace.SpanKind.INTERNAL, trace.SpanKind.CLIENT
_ERROR = trace.StatusCode.ERROR


class _Check(NamedTuple):
    """A verification in progress: its span, the context token that made it current, and the
    task it runs in (the only one whose calls are its children, and that may end it)."""

    span: trace.Span
    token: object
    task: asyncio.Task[Any] | None


class TracingObserver(Observer):
    """Spans for keyguard's key checks. `tracer_provider`: the provider to use (the global one
    when None); `record_key_id`: put the valid key's id on the span (`keyguard.key_id`), for
    operators who want to find a key's requests in their traces."""

    tracks_requests = True  # `verifying` starts each check's span, with the request's id

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        record_key_id: bool = False,
    ) -> None:
        self.record_key_id = record_key_id
        self._tracer = trace.get_tracer("keyguard", __version__, tracer_provider=tracer_provider)
        # One variable per observer, so that two observers never end each other's spans.
        self._check: ContextVar[_Check | None] = ContextVar(
            f"keyguard_tracing_{id(self):x}", default=None
        )
        self._systems = {"redis": "redis"}  # keyguard's system -> db.system.name

    def watch(self, read: Callable[[], Gauges]) -> None:
        """Learn which database the store is, for `db.system.name` on its calls."""
        try:
            system = _store_system(getattr(read, "__self__", None))
            if system is not None:
                self._systems["store"] = system
        except Exception:
            logger.debug("could not tell the store's database apart", exc_info=True)

    def verifying(self, request_id: str) -> None:
        try:
            self._end_dangling()
            span = self._tracer.start_span(
                "keyguard.verify", kind=_INTERNAL, attributes={"keyguard.request_id": request_id}
            )
            token = otel_context.attach(trace.set_span_in_context(span))
            self._check.set(_Check(span, token, _current_task()))
        except Exception:
            logger.debug("could not start a verification span", exc_info=True)

    def answered(self, tier: str) -> None:
        """The tier on the span (one lookup a request; none for a missing or malformed key, or
        for a request that waited on another's lookup of the same key)."""
        check = self._live()
        if check is not None:
            try:
                check.span.set_attribute("keyguard.tier", tier)
            except Exception:
                logger.debug("could not record a tier", exc_info=True)

    def decided(self, decision: Decision) -> None:
        check = self._live()
        if check is None:
            return
        self._check.set(None)
        try:
            _describe(check.span, decision, self.record_key_id)
        except Exception:
            logger.debug("could not describe a decision", exc_info=True)
        finally:
            _close(check)

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        """A child span around a call the current check made; nothing for any other call."""
        started = self._start_call(system, operation) if self._live() is not None else None
        if started is None:
            yield
            return
        span, token = started
        try:
            yield
        except Exception as exc:  # the call failed: on the span, then on to the caller
            _failed(span, exc)
            raise
        except BaseException:  # cancelled (the client hung up, say): not the server's fault
            _quietly(span.set_attribute, "keyguard.cancelled", True)
            raise
        finally:
            _quietly(otel_context.detach, token)
            _quietly(span.end)

    def _start_call(self, system: str, operation: str) -> tuple[trace.Span, object] | None:
        try:
            attributes = {"keyguard.system": system, "db.operation.name": operation}
            db_system = self._systems.get(system)
            if db_system is not None:
                attributes["db.system.name"] = db_system
            span = self._tracer.start_span(
                f"keyguard.{system} {operation}", kind=_CLIENT, attributes=attributes
            )
            # Current while the call runs: a driver's own instrumentation nests under it.
            return span, otel_context.attach(trace.set_span_in_context(span))
        except Exception:
            logger.debug("could not start a call span", exc_info=True)
            return None

    def _live(self) -> _Check | None:
        """The check this task began and has not ended. A task started during a check copies
        the variable too, but is another task: its calls are not the check's."""
        check = self._check.get()
        if check is None or check.task is not _current_task():
            return None
        return check

    def _end_dangling(self) -> None:
        """A check this task began and never decided (its request was cancelled mid-check, and
        this task serves requests one after another): ended as abandoned, so that it neither
        leaks into this request as its parent nor stays open for ever."""
        check = self._live()
        if check is None:
            return
        self._check.set(None)
        _quietly(check.span.set_attribute, "keyguard.outcome", "abandoned")
        _close(check)


def _describe(span: trace.Span, decision: Decision, record_key_id: bool) -> None:
    span.set_attribute("keyguard.outcome", "accepted" if decision.accepted else "refused")
    span.set_attribute("keyguard.reason", decision.reason)
    if decision.code:
        span.set_attribute("keyguard.code", decision.code)
    if decision.status:
        span.set_attribute("http.response.status_code", decision.status)
    span.set_attribute("keyguard.access", decision.access)
    span.set_attribute("keyguard.environment", decision.environment)
    if record_key_id and decision.key_id is not None:
        span.set_attribute("keyguard.key_id", decision.key_id)
    # 401, 403 and 429 are keyguard doing its job; 503 is keyguard unable to check.
    if decision.status >= 500:
        span.set_status(trace.Status(_ERROR, decision.reason))


def _failed(span: trace.Span, exc: Exception) -> None:
    """The exception's type, never its message: a driver's message may quote a URL with its
    password, or a value sent; the log has the detail."""
    kind = type(exc).__qualname__
    _quietly(span.set_attribute, "error.type", kind)
    _quietly(span.add_event, "exception", {"exception.type": kind})
    _quietly(span.set_status, trace.Status(_ERROR, kind))


def _close(check: _Check) -> None:
    """End the check's span, and make current again what was current before it, if it is
    still the current one: a token detached out of order would restore a stale context (an
    abandoned check's request may have had its own outer spans, since restored)."""
    _quietly(check.span.end)
    if trace.get_current_span() is check.span:
        _quietly(otel_context.detach, check.token)


def _quietly(action: Callable[..., object], *args: Any) -> None:
    try:
        action(*args)
    except Exception:
        logger.debug("tracing step failed", exc_info=True)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop: a hook called from plain code
        return None


def _store_system(guard: object) -> str | None:
    """OpenTelemetry's name for the guard's database, when `read` was a guard's bound method
    (its store reports its calls through a stand-in that passes for it in `isinstance`)."""
    store = getattr(guard, "store", None)
    if isinstance(store, PostgresKeyStore):
        return "postgresql"
    if isinstance(store, SQLiteKeyStore):
        return "sqlite"
    return None

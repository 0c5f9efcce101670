"""OpenTelemetry traces of keyguard's key checks: `TracingObserver`, an `Observer`.

    pip install 'keyguard[tracing]'
    guard = KeyGuard(settings, observer=TracingObserver())

Each checked request gets one `keyguard.verify` span, a child of whatever span is current when
the middleware starts its check (the server span of OpenTelemetry's ASGI middleware, when it
wraps the app), with a `keyguard.<system> <operation>` child for each store or Redis call the
check made. The span ends when the check does, before the app runs: the app's own spans are its
siblings, not its children.

Only a request's own calls are traced. Background work (change-log polls every 0.25 s, last-used
and quota flushes, refusal notes) makes no span: it would flood the traces, and tasks started
during a check copy its context, so a span being current is not enough to tell them apart. A
check is tied to the task that began it, and a call counts only in that task.

Nothing keyguard hands a hook holds a key value, and this module adds none: failed calls record
the exception's type only (a driver's message may quote a URL with its password). `key_id` is
recorded only with `record_key_id=True`. No hook raises: a tracing fault is logged at DEBUG and
the request goes on untraced.
"""

from keyguard._tracing import TracingObserver

__all__ = ["TracingObserver"]

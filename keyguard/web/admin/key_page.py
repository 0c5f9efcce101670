"""A key's own page: status, metadata, its audit events, and what can be done to it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from keyguard.core import AuditEventType, AuditQuery, KeyRecord, NotFoundError, utcnow

from .display import EventView, KeyView
from .reach import find_key
from .restrictions import RestrictionsForm, RestrictionsView
from .usage_limits import UsageForm
from .usage_view import UsageView, ms_of
from .visit import Visit

__all__ = ["DEFAULT_GRACE", "GRACE_CHOICES", "key_page", "render_key_page", "usage_context"]

# What the roll form offers: how long the old key keeps working beside the new one.
GRACE_CHOICES = {
    "0": ("Stop the old key now", timedelta(0)),
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
}
DEFAULT_GRACE = "24h"
_EVENTS_SHOWN = 50


async def key_page(visit: Visit) -> Response:
    record = await find_key(visit)
    return await render_key_page(visit, record)


async def render_key_page(
    visit: Visit,
    record: KeyRecord,
    *,
    status: int = 200,
    label: str | None = None,
    label_error: str = "",
    limits: RestrictionsForm | None = None,
    limit_errors: dict[str, str] | None = None,
    usage: UsageForm | None = None,
    usage_errors: dict[str, str] | None = None,
) -> Response:
    """The page; a form sent with errors shows again as typed, its errors beside its fields."""
    now = utcnow()
    query = AuditQuery(account=record.account, key_id=record.id, limit=_EVENTS_SHOWN)
    events = (await visit.page.manager.audit(query)).items
    context: dict[str, Any] = {
        "key": KeyView.of(record, now),
        "events": [EventView(e) for e in events],
        "successor": await _related(visit, record.replaced_by, now),
        "predecessor": await _related(visit, _rolled_from(events), now),
        "graces": {value: text for value, (text, _) in GRACE_CHOICES.items()},
        "default_grace": DEFAULT_GRACE,
        "nonce": visit.page.nonces.new(),
        "label": record.name if label is None else label,
        "label_error": label_error,
        "restrictions": RestrictionsView(record),
        "places_fields": (RestrictionsView(record).places_noun,),
        "limits": (limits or RestrictionsForm.of(record)).values,
        "errors": limit_errors or {},
        **usage_context(visit, record, usage, usage_errors or {}, now),
        "done": visit.request.query_params.get("done", ""),
    }
    return visit.render("key.html", context, status=status)


def usage_context(
    visit: Visit,
    record: KeyRecord,
    form: UsageForm | None,
    errors: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The key's usage limits in words, and its form (as typed, when sent with errors)."""
    view = UsageView.of(record, visit.page.rate_limit_defaults, now)
    return {
        "usage": view,
        "default_limits": view.default_text,
        "usage_form": (form or UsageForm.of(record, ms_of(now))).values,
        "usage_errors": errors,
    }


def _rolled_from(events: Any) -> str | None:
    for event in events:
        if event.event is AuditEventType.CREATED:
            rolled_from = event.data.get("rolledFrom")
            return rolled_from if isinstance(rolled_from, str) else None
    return None


async def _related(visit: Visit, key_id: str | None, now: Any) -> KeyView | None:
    """The other key of a roll, to show both last-used times; None once it is deleted."""
    if key_id is None:
        return None
    try:
        return KeyView.of(await find_key(visit, key_id), now)
    except NotFoundError:
        return None

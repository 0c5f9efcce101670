"""What a person does to a key: rename, restrict, limit, revoke, delete, roll. Each is a POST that
redirects (303) to a page saying what happened; revoke and delete ask first, on a page of their
own without JavaScript and in a dialog with it."""

from __future__ import annotations

from starlette.responses import Response

from keyguard.core import (
    ConflictError,
    Restrictions,
    UnavailableError,
    ValidationError,
    utcnow,
)

from .display import KeyView, sentence
from .key_page import GRACE_CHOICES, render_key_page
from .new_key import show_created
from .reach import find_key
from .restrictions import RestrictionsForm
from .usage_limits import UsageForm
from .usage_view import reset
from .visit import Visit, error_page, one_time_nonce, read_form

__all__ = [
    "confirm_delete",
    "confirm_revoke",
    "delete",
    "limit",
    "rename",
    "reset_quota",
    "restrict",
    "revoke",
    "roll",
]


async def rename(visit: Visit) -> Response:
    record = await find_key(visit)
    label = str((await read_form(visit.request)).get("label", ""))
    try:
        await visit.page.manager.rename(record.id, label, account=record.account, **visit.audit)
    except ValidationError as exc:
        error = sentence(exc.issues[0].message)
        return await render_key_page(visit, record, label_error=error, status=400, label=label)
    return visit.redirect(f"/keys/{record.id}", done="renamed")


async def restrict(visit: Visit) -> Response:
    """Change what the key may do and where from. Like rename it saves at once (a change can
    be changed back); unlike rename it is invalidated everywhere, as a revoke is."""
    record = await find_key(visit)
    limits = RestrictionsForm.read(await read_form(visit.request))
    errors = limits.conflicts()
    if not errors:
        try:
            changed = await visit.page.manager.restrict(
                record.id,
                account=record.account,
                **limits.for_restrict(record.access),
                **visit.audit,
            )
        except ValidationError as exc:
            errors = limits.errors(exc, {})
        else:
            same = Restrictions.of(changed) == Restrictions.of(record)
            return visit.redirect(f"/keys/{record.id}", done="unchanged" if same else "restricted")
    return await render_key_page(visit, record, status=400, limits=limits, limit_errors=errors)


async def limit(visit: Visit) -> Response:
    """Change how often and how much the key may be used; saved at once, as restrictions are.
    The quota goes to the manager only if it was changed: giving it resets its count."""
    record = await find_key(visit)
    usage = UsageForm.read(await read_form(visit.request))
    errors = usage.conflicts()
    if not errors:
        try:
            changed = await visit.page.manager.limit(
                record.id, account=record.account, **usage.for_limit(), **visit.audit
            )
        except ValidationError as exc:
            errors = usage.errors(exc.issues)
        else:
            same = (changed.rate_limits, changed.quota) == (record.rate_limits, record.quota)
            done = "limits-unchanged" if same else "limited"
            return visit.redirect(f"/keys/{record.id}", done=done)
    return await render_key_page(visit, record, status=400, usage=usage, usage_errors=errors)


async def reset_quota(visit: Visit) -> Response:
    """Set the quota anew as it is configured: its count starts over everywhere."""
    record = await find_key(visit)
    if record.quota is None:
        text = "This key has no quota to reset."
        return error_page(visit.request, 409, "That cannot be done", text)
    quota = reset(record.quota, utcnow())
    await visit.page.manager.limit(record.id, quota=quota, account=record.account, **visit.audit)
    return visit.redirect(f"/keys/{record.id}", done="quota-reset")


async def confirm_revoke(visit: Visit) -> Response:
    return await _confirm(visit, "revoke")


async def confirm_delete(visit: Visit) -> Response:
    return await _confirm(visit, "delete")


async def _confirm(visit: Visit, action: str) -> Response:
    key = KeyView.of(await find_key(visit), utcnow())
    if action == "delete" and not key.revoked:
        text = "Only a revoked key can be deleted. Revoke it first."
        return error_page(visit.request, 409, "That cannot be done", text)
    return visit.render("confirm.html", {"key": key, "action": action})


async def revoke(visit: Visit) -> Response:
    record = await find_key(visit)
    await visit.page.manager.revoke(record.id, account=record.account, **visit.audit)
    return visit.redirect(f"/keys/{record.id}", done="revoked")


async def delete(visit: Visit) -> Response:
    record = await find_key(visit)
    await visit.page.manager.delete(record.id, account=record.account, **visit.audit)
    return visit.redirect("", done="deleted")


async def roll(visit: Visit) -> Response:
    record = await find_key(visit)
    form = await read_form(visit.request)
    choice = GRACE_CHOICES.get(str(form.get("grace", "")))
    if choice is None:
        text = "Choose one of the grace periods offered."
        return error_page(visit.request, 400, "That cannot be done", text)
    nonce = one_time_nonce(form)
    if not visit.page.nonces.spend(nonce):
        return visit.redirect(f"/keys/{record.id}", done="already-rolled")
    try:
        created = await visit.page.manager.roll(
            record.id, grace=choice[1], account=record.account, **visit.audit
        )
    except UnavailableError:
        visit.page.nonces.give_back(nonce)  # nothing was rolled: the same form may retry
        raise
    except ConflictError:
        if record.replaced_by is None:
            raise  # revoked or expired: the error page says why
        return visit.redirect(f"/keys/{record.id}", done="already-rolled")
    old = await visit.page.manager.get(record.id, account=record.account)
    return show_created(visit, created, rolled_from=KeyView.of(old, utcnow()))

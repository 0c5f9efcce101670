"""Creating a key: the form, and the one page that ever shows the new key's value.

The value is rendered into that response only (no redirect, no URL, no cookie, `no-store`); the
form's one-time nonce makes a reload or the back button create nothing and show nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from keyguard.core import (
    Access,
    ConflictError,
    CreatedKey,
    UnavailableError,
    ValidationError,
    utcnow,
)

from .display import ACCESS_LABELS, KeyView, sentence
from .reach import environments
from .restrictions import RestrictionsForm, RestrictionsView
from .usage_limits import UsageForm, is_usage_issue
from .usage_view import UsageView
from .visit import Visit, one_time_nonce, read_form

__all__ = ["create", "new_key_form", "show_created"]

# The API's field names, as the form labels them.
_FIELDS = {"name": "label", "access": "access", "environment": "environment"}


_NO_LIMITS = RestrictionsForm({"permissions": "", "nothing": "", "origins": "", "networks": ""})


@dataclass(frozen=True, slots=True)
class _Typed:
    """The new-key form as sent: its fields, its restrictions and its usage limits."""

    values: dict[str, str]
    limits: RestrictionsForm
    usage: UsageForm


async def new_key_form(visit: Visit) -> Response:
    return _form(visit, _Typed({}, _NO_LIMITS, UsageForm.empty()), {}, status=200)


def _form(visit: Visit, typed: _Typed, errors: dict[str, str], *, status: int) -> Response:
    allowed = environments(visit)
    values, limits, usage = typed.values, typed.limits, typed.usage
    context: dict[str, Any] = {
        "nonce": visit.page.nonces.new(),
        "values": {"access": "secret", "environment": allowed[0], "label": "", **values},
        "limits": limits.values,
        "places_fields": ("origins", "networks"),  # the type is chosen here: both, until then
        "errors": errors,
        "usage_form": usage.values,
        "usage_errors": errors,  # one form: its fields' names differ
        "default_limits": None,  # the type is chosen here: the default depends on it
        "types": {a.value: ACCESS_LABELS[a] for a in Access},
        "environments": allowed,
    }
    return visit.render("new.html", context, status=status)


async def create(visit: Visit) -> Response:
    form = await read_form(visit.request)
    values = {name: str(form.get(name, "")) for name in ("access", "environment", "label")}
    typed = _Typed(values, RestrictionsForm.read(form), UsageForm.read(form))
    limits, usage = typed.limits, typed.usage
    nonce = one_time_nonce(form)
    if not visit.page.nonces.spend(nonce):
        return visit.redirect("", done="already-created")
    if values["environment"] not in environments(visit):
        return _form(visit, typed, {"environment": "Choose an environment."}, status=400)
    if conflicts := {**limits.conflicts(), **usage.conflicts()}:
        return _form(visit, typed, conflicts, status=400)
    try:
        created = await visit.page.manager.create(
            account=visit.identity.account,
            owner=visit.identity.owner,
            name=values["label"],
            environment=values["environment"],
            access=values["access"],
            **limits.for_create(),
            **usage.for_create(),
            **visit.audit,
        )
    except ValidationError as exc:
        return _form(visit, typed, _errors(typed, exc), status=400)
    except ConflictError as exc:
        return _form(visit, typed, {"form": sentence(exc.message)}, status=409)
    except UnavailableError:
        visit.page.nonces.give_back(nonce)
        raise
    return show_created(visit, created, rolled_from=None)


def _errors(typed: _Typed, exc: ValidationError) -> dict[str, str]:
    """The manager's issues beside their fields: the usage limits', then the others'."""
    others = [issue for issue in exc.issues if not is_usage_issue(issue)]
    errors = typed.usage.errors(issue for issue in exc.issues if is_usage_issue(issue))
    if others:
        errors.update(typed.limits.errors(ValidationError(others), _FIELDS))
    return errors


def show_created(visit: Visit, created: CreatedKey, *, rolled_from: KeyView | None) -> Response:
    now = utcnow()
    context = {
        "key": KeyView.of(created.record, now),
        "restrictions": RestrictionsView(created.record),
        "usage": UsageView.of(created.record, visit.page.rate_limit_defaults, now),
        "value": created.value,
        "rolled_from": rolled_from,
    }
    return visit.render("created.html", context, status=201)

"""Creating a key: the form, and the one page that ever shows the new key's value.

The value is rendered into that response only (no redirect, no URL, no cookie, `no-store`); the
form's one-time nonce makes a reload or the back button create nothing and show nothing.
"""

from __future__ import annotations

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
from .visit import Visit, one_time_nonce, read_form

__all__ = ["create", "new_key_form", "show_created"]

# The API's field names, as the form labels them.
_FIELDS = {"name": "label", "access": "access", "environment": "environment"}


_NO_LIMITS = RestrictionsForm({"permissions": "", "nothing": "", "origins": "", "networks": ""})


async def new_key_form(visit: Visit) -> Response:
    return _form(visit, {}, _NO_LIMITS, {}, status=200)


def _form(
    visit: Visit,
    values: dict[str, str],
    limits: RestrictionsForm,
    errors: dict[str, str],
    *,
    status: int,
) -> Response:
    allowed = environments(visit)
    context: dict[str, Any] = {
        "nonce": visit.page.nonces.new(),
        "values": {"access": "secret", "environment": allowed[0], "label": "", **values},
        "limits": limits.values,
        "places_fields": ("origins", "networks"),  # the type is chosen here: both, until then
        "errors": errors,
        "types": {a.value: ACCESS_LABELS[a] for a in Access},
        "environments": allowed,
    }
    return visit.render("new.html", context, status=status)


async def create(visit: Visit) -> Response:
    form = await read_form(visit.request)
    values = {name: str(form.get(name, "")) for name in ("access", "environment", "label")}
    limits = RestrictionsForm.read(form)
    nonce = one_time_nonce(form)
    if not visit.page.nonces.spend(nonce):
        return visit.redirect("", done="already-created")
    if values["environment"] not in environments(visit):
        return _form(visit, values, limits, {"environment": "Choose an environment."}, status=400)
    if conflicts := limits.conflicts():
        return _form(visit, values, limits, conflicts, status=400)
    try:
        created = await visit.page.manager.create(
            account=visit.identity.account,
            owner=visit.identity.owner,
            name=values["label"],
            environment=values["environment"],
            access=values["access"],
            **limits.for_create(),
            **visit.audit,
        )
    except ValidationError as exc:
        return _form(visit, values, limits, limits.errors(exc, _FIELDS), status=400)
    except ConflictError as exc:
        return _form(visit, values, limits, {"form": sentence(exc.message)}, status=409)
    except UnavailableError:
        visit.page.nonces.give_back(nonce)
        raise
    return show_created(visit, created, rolled_from=None)


def show_created(visit: Visit, created: CreatedKey, *, rolled_from: KeyView | None) -> Response:
    context = {
        "key": KeyView.of(created.record, utcnow()),
        "restrictions": RestrictionsView(created.record),
        "value": created.value,
        "rolled_from": rolled_from,
    }
    return visit.render("created.html", context, status=201)

"""FastAPI's request validation errors as keyguard's 400 `VALIDATION_ERROR`, naming each field by
where it was (`query.limit`, `body.items.0.price`) in our own words.

pydantic's messages may quote what was sent, and a location may hold a name the client made up
(an extra field, a key of a dict): only names the route declares are named, so nothing the
request held comes back.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from keyguard.core import FieldIssue, ValidationError

from ._errors import keyguard_error_response
from ._json import request_id
from ._validation_words import validation_message

__all__ = ["on_validation_error"]

_UNKNOWN_FIELD = "holds a field this operation does not take"


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    names = _declared_names(route.dependant) if isinstance(route, APIRoute) else frozenset()
    issues: dict[str, FieldIssue] = {}
    for error in exc.errors():
        field = _field(error.get("loc", ()), names, error.get("type") == "json_invalid")
        issues.setdefault(field, FieldIssue(field, _message(error, field, names)))
    return keyguard_error_response(ValidationError(issues.values()), request_id(request.scope))


def _field(loc: Sequence[Any], names: frozenset[str], whole_body: bool) -> str:
    """The location, then each name the route declares (or index) in turn, up to the first that
    it does not: that one, and all under it, the client chose."""
    if not loc:
        return "request"
    parts = [str(loc[0])]
    for part in () if whole_body else loc[1:]:
        if not (isinstance(part, int) or part in names):
            break
        parts.append(str(part))
    return ".".join(parts)


def _message(error: Mapping[str, Any], field: str, names: frozenset[str]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden" and str((error.get("loc") or ("",))[-1]) not in names:
        return _UNKNOWN_FIELD
    return validation_message(kind, error.get("ctx"))


def _declared_names(dependant: Dependant) -> frozenset[str]:
    return frozenset(_names_of(dependant))


def _names_of(dependant: Dependant) -> Iterator[str]:
    params = (
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
        *dependant.body_params,
    )
    for param in params:
        yield from (param.name, param.alias)
        yield from _model_names(param.field_info.annotation, set())
    for sub in dependant.dependencies:
        yield from _names_of(sub)


def _model_names(annotation: Any, seen: set[type]) -> Iterator[str]:
    """The field names (and aliases) of every model `annotation` holds, at any depth."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            yield name
            if field.alias:
                yield field.alias
            yield from _model_names(field.annotation, seen)
        return
    for argument in typing.get_args(annotation):
        yield from _model_names(argument, seen)

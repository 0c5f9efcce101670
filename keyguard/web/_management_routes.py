"""The management HTTP API: mint, list, rename, revoke, delete and roll keys, read the audit log.

    app = APIKeyMiddleware(Starlette(routes=[*management_routes(guard), ...]), guard=guard)
    fastapi_app.router.routes.extend(management_routes(guard))  # behind the same middleware

Every call acts for the caller's account, as the caller's key (the audit log's actor) and under
the request's id. Input is checked in full before anything is touched, and each change commits
with its audit row in one transaction: a refused request changes nothing and logs nothing.

A key created here belongs to the caller's owner, so where an account allows one active secret
key per owner, a secret key cannot mint a second secret key for itself (409): it rolls instead.
"""

from __future__ import annotations

import dataclasses

from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import (
    KeyQuery,
    audit_view,
    created_view,
    deleted_view,
    detail_view,
    summary_view,
    utcnow,
)

from ._management_body import grace_period, new_key, new_name
from ._management_call import MANAGES_EVERY_ENVIRONMENT, Call, Services
from ._management_http import Endpoint, Handler, NotFound, Resource, secret_only
from ._management_openapi import openapi_endpoint
from ._management_params import audit_query, key_query, no_params, permanent

__all__ = ["DEFAULT_PREFIX", "ManagementAPI", "management_routes"]

DEFAULT_PREFIX = "/v1/account"


def management_routes(guard: KeyGuard, *, prefix: str = DEFAULT_PREFIX) -> list[BaseRoute]:
    """The routes, ending with a catch-all that answers 404 for anything else under `prefix`:
    list your own routes under the same prefix before these."""
    prefix = prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"the prefix must start with '/', got {prefix!r}")
    keys = f"{prefix}/api-keys"
    s = Services(guard.manager, guard.key_format.environments, keys)
    one = f"{keys}/{{id}}"
    return [
        _secret(s, keys, "api_keys", {"GET": list_keys, "POST": create_key}),
        _secret(s, one, "api_key", {"GET": get_key, "PATCH": rename_key, "DELETE": delete_key}),
        _secret(s, f"{one}/roll", "api_key_roll", {"POST": roll_key}),
        _secret(s, f"{prefix}/audit-log", "audit_log", {"GET": read_audit_log}),
        _route(
            f"{prefix}/openapi.json", "openapi", {"GET": openapi_endpoint(prefix, s.environments)}
        ),
        Route(f"{prefix}/{{path:path}}", NotFound(), name="keyguard:not_found"),
    ]


def _secret(s: Services, path: str, name: str, handlers: dict[str, Handler]) -> Route:
    return _route(path, name, {method: secret_only(s, h) for method, h in handlers.items()})


def _route(path: str, name: str, endpoints: dict[str, Endpoint]) -> Route:
    return Route(path, Resource(path, endpoints), name=f"keyguard:{name}")


class ManagementAPI:
    """The routes as one ASGI app, e.g. `app.mount("/v1/account", ManagementAPI(guard,
    prefix=""))` in FastAPI. Like the routes, it needs `APIKeyMiddleware` in front of it."""

    def __init__(self, guard: KeyGuard, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.router = Router(routes=management_routes(guard, prefix=prefix), default=NotFound())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router(scope, receive, send)


async def list_keys(call: Call) -> Response:
    query = key_query(
        call.request.query_params, account=call.account, environments=call.services.environments
    )
    page = await call.manager.list(_within_reach(call, query))
    now = utcnow()
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    return call.ok([summary_view(r, now) for r in page.items], meta=meta)


def _within_reach(call: Call, query: KeyQuery) -> KeyQuery:
    if query.environment is not None:
        call.check_reach(query.environment)
    if call.caller.environment == MANAGES_EVERY_ENVIRONMENT:
        return query
    return dataclasses.replace(query, environment=call.caller.environment)


async def create_key(call: Call) -> Response:
    no_params(call.request.query_params)
    new = await new_key(call.request, call.services.environments)
    call.check_reach(new.environment)
    created = await call.manager.create(
        account=call.account,
        owner=call.caller.owner,  # one active secret key per owner: the caller's owner
        name=new.name,
        environment=new.environment,
        access=new.access,
        expires_at=new.expires_at,
        metadata=new.metadata,
        **call.audit,
    )
    headers = call.location(created.record.id)
    return call.ok(created_view(created, utcnow()), status=201, headers=headers)


async def get_key(call: Call) -> Response:
    no_params(call.request.query_params)
    return call.ok(detail_view(await call.key(), utcnow()))


async def rename_key(call: Call) -> Response:
    no_params(call.request.query_params)
    name = await new_name(call.request)
    key = await call.key()
    record = await call.manager.rename(key.id, name, account=call.account, **call.audit)
    return call.ok(detail_view(record, utcnow()))


async def delete_key(call: Call) -> Response:
    """Revoke; with `?permanent=true`, delete a key that is revoked already."""
    for_good = permanent(call.request.query_params)
    key = await call.key()
    if for_good:
        await call.manager.delete(key.id, account=call.account, **call.audit)
        return call.ok(deleted_view(key.id))
    record = await call.manager.revoke(key.id, account=call.account, **call.audit)
    return call.ok(detail_view(record, utcnow()))


async def roll_key(call: Call) -> Response:
    no_params(call.request.query_params)
    grace = await grace_period(call.request)
    key = await call.key()
    created = await call.manager.roll(key.id, grace=grace, account=call.account, **call.audit)
    headers = call.location(created.record.id)
    return call.ok(created_view(created, utcnow()), status=201, headers=headers)


async def read_audit_log(call: Call) -> Response:
    page = await call.manager.audit(audit_query(call.request.query_params, account=call.account))
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    return call.ok([audit_view(e) for e in page.items], meta=meta)

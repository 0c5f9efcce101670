"""What each management route does: read the request, act through the lifecycle service (the
same rules as the CLI and the Python API), answer in the API's views.

Every call acts for the caller's account, as the caller's key (the audit log's actor) and under
the request's id. Input is checked in full before anything is touched, and each change commits
with its audit row in one transaction: a refused request changes nothing and logs nothing.

A key created here belongs to the caller's owner, so where an account allows one active secret
key per owner, a secret key cannot mint a second secret key for itself (409): it rolls instead.
"""

from __future__ import annotations

import dataclasses

from starlette.responses import Response

from keyguard.core import (
    KeyQuery,
    audit_view,
    created_view,
    deleted_view,
    detail_view,
    summary_view,
    utcnow,
)

from .body import grace_period, new_key, new_name
from .context import Call
from .query import audit_query, key_query, no_params, permanent

__all__ = [
    "create_key",
    "delete_key",
    "get_key",
    "list_keys",
    "read_audit_log",
    "rename_key",
    "roll_key",
]


async def list_keys(call: Call) -> Response:
    query = key_query(call.request.query_params, account=call.account, models=call.models)
    page = await call.manager.list(_within_reach(call, query))
    now = utcnow()
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    return call.ok([summary_view(r, now) for r in page.items], meta=meta)


def _within_reach(call: Call, query: KeyQuery) -> KeyQuery:
    if query.environment is not None:
        call.check_reach(query.environment)
    if call.reaches_everything:
        return query
    return dataclasses.replace(query, environment=call.caller.environment)


async def create_key(call: Call) -> Response:
    no_params(call.request.query_params, call.models)
    new = await new_key(call.request, call.models)
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
    no_params(call.request.query_params, call.models)
    return call.ok(detail_view(await call.key(), utcnow()))


async def rename_key(call: Call) -> Response:
    no_params(call.request.query_params, call.models)
    name = await new_name(call.request, call.models)
    key = await call.key()
    record = await call.manager.rename(key.id, name, account=call.account, **call.audit)
    return call.ok(detail_view(record, utcnow()))


async def delete_key(call: Call) -> Response:
    """Revoke; with `?permanent=true`, delete a key that is revoked already."""
    for_good = permanent(call.request.query_params, call.models)
    key = await call.key()
    if for_good:
        await call.manager.delete(key.id, account=call.account, **call.audit)
        return call.ok(deleted_view(key.id))
    record = await call.manager.revoke(key.id, account=call.account, **call.audit)
    return call.ok(detail_view(record, utcnow()))


async def roll_key(call: Call) -> Response:
    no_params(call.request.query_params, call.models)
    grace = await grace_period(call.request, call.models)
    key = await call.key()
    created = await call.manager.roll(key.id, grace=grace, account=call.account, **call.audit)
    headers = call.location(created.record.id)
    return call.ok(created_view(created, utcnow()), status=201, headers=headers)


async def read_audit_log(call: Call) -> Response:
    """A key reads the history of the keys it may manage: its own environment's, or all."""
    query = audit_query(call.request.query_params, account=call.account, models=call.models)
    if not call.reaches_everything:
        query = dataclasses.replace(query, environment=call.caller.environment)
    page = await call.manager.audit(query)
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    return call.ok([audit_view(e) for e in page.items], meta=meta)

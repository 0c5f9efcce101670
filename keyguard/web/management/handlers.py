"""What each management route does: read the request, act through the lifecycle service (the
same rules as the CLI and the Python API), answer in the API's views.

Every call acts for the caller's account, as the caller's key (the audit log's actor) and under
the request's id. Input is checked in full before anything is touched, and each change commits
with its audit row in one transaction: a refused request changes nothing and logs nothing.

A key created here belongs to the caller's owner, so where an account allows one active secret
key per owner, a secret key cannot mint a second secret key for itself (409): it rolls instead.

A restricted caller hands out no more than it holds (`grants`): the routes check that it may
call the operation at all, the handlers what it gives. A key's answers show its usage limits
with the settings' default rate limits that apply to it (`effectiveRateLimits`).
"""

from __future__ import annotations

import dataclasses

from starlette.responses import Response

from keyguard.core import (
    UNCHANGED,
    Access,
    ConflictError,
    KeyQuery,
    KeyRecord,
    audit_view,
    created_view,
    deleted_view,
    detail_view,
    summary_view,
    utcnow,
)

from .body import KeyChanges, grace_period, key_changes, new_key
from .context import Call
from .grants import check_grant, check_networks, check_own_limits
from .query import audit_query, key_query, no_params, permanent

__all__ = [
    "create_key",
    "delete_key",
    "get_key",
    "list_keys",
    "read_audit_log",
    "roll_key",
    "update_key",
]


async def list_keys(call: Call) -> Response:
    query = key_query(call.request.query_params, account=call.account, models=call.models)
    page = await call.manager.list(_within_reach(call, query))
    now = utcnow()
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    defaults = call.context.rate_limit_defaults
    return call.ok([summary_view(r, now, defaults) for r in page.items], meta=meta)


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
    check_grant(call.caller, new.permissions, "create")
    check_networks(call.caller, new.access, new.allowed_networks, "create")
    created = await call.manager.create(
        account=call.account,
        owner=call.caller.owner,  # one active secret key per owner: the caller's owner
        name=new.name,
        environment=new.environment,
        access=new.access,
        expires_at=new.expires_at,
        metadata=new.metadata,
        permissions=new.permissions,
        allowed_origins=new.allowed_origins,
        allowed_networks=new.allowed_networks,
        rate_limits=new.rate_limits,
        quota=new.quota,
        **call.audit,
    )
    headers = call.location(created.record.id)
    view = created_view(created, utcnow(), call.context.rate_limit_defaults)
    return call.ok(view, status=201, headers=headers)


async def get_key(call: Call) -> Response:
    no_params(call.request.query_params, call.models)
    return _detail(call, await call.key())


def _detail(call: Call, record: KeyRecord) -> Response:
    return call.ok(detail_view(record, utcnow(), call.context.rate_limit_defaults))


async def update_key(call: Call) -> Response:
    """Rename, restrict and/or limit. The restrictions and limits change first: those are the
    steps that can be refused (a revoked key, 409), so a refused request renames nothing."""
    no_params(call.request.query_params, call.models)
    changes = await key_changes(call.request, call.models)
    key = await call.key()
    if changes.permissions is not UNCHANGED:
        check_grant(call.caller, changes.permissions, "set")
    if changes.allowed_networks is not UNCHANGED:
        check_networks(call.caller, key.access, changes.allowed_networks, "make")
    defaults = call.context.rate_limit_defaults
    check_own_limits(call.caller, key, changes.rate_limits, changes.quota, defaults)
    _check_fits(key, changes)
    record = key
    if any(value is not UNCHANGED for value in changes.restrictions.values()):
        record = await call.manager.restrict(
            key.id,
            permissions=changes.permissions,
            allowed_origins=changes.allowed_origins,
            allowed_networks=changes.allowed_networks,
            account=call.account,
            **call.audit,
        )
    if any(value is not UNCHANGED for value in changes.limits.values()):
        record = await call.manager.limit(
            key.id,
            rate_limits=changes.rate_limits,
            quota=changes.quota,
            account=call.account,
            **call.audit,
        )
    if changes.name is not UNCHANGED:
        record = await call.manager.rename(key.id, changes.name, account=call.account, **call.audit)
    return _detail(call, record)


def _check_fits(key: KeyRecord, changes: KeyChanges) -> None:
    """A list this key's access cannot carry: the body is well formed, the key is the wrong
    kind for it (409, as for any change the key's state does not allow)."""
    if key.access is Access.SECRET and isinstance(changes.allowed_origins, list):
        raise ConflictError("allowedOrigins is for publishable keys; this key is a secret key.")
    if key.access is Access.PUBLISHABLE and isinstance(changes.allowed_networks, list):
        raise ConflictError("allowedNetworks is for secret keys; this key is a publishable key.")


async def delete_key(call: Call) -> Response:
    """Revoke; with `?permanent=true`, delete a key that is revoked already."""
    for_good = permanent(call.request.query_params, call.models)
    key = await call.key()
    if for_good:
        await call.manager.delete(key.id, account=call.account, **call.audit)
        return call.ok(deleted_view(key.id))
    record = await call.manager.revoke(key.id, account=call.account, **call.audit)
    return _detail(call, record)


async def roll_key(call: Call) -> Response:
    no_params(call.request.query_params, call.models)
    grace = await grace_period(call.request, call.models)
    key = await call.key()
    check_grant(call.caller, key.permissions, "roll")
    check_networks(call.caller, key.access, key.allowed_networks, "roll")
    created = await call.manager.roll(key.id, grace=grace, account=call.account, **call.audit)
    headers = call.location(created.record.id)
    view = created_view(created, utcnow(), call.context.rate_limit_defaults)
    return call.ok(view, status=201, headers=headers)


async def read_audit_log(call: Call) -> Response:
    """A key reads the history of the keys it may manage: its own environment's, or all."""
    query = audit_query(call.request.query_params, account=call.account, models=call.models)
    if not call.reaches_everything:
        query = dataclasses.replace(query, environment=call.caller.environment)
    page = await call.manager.audit(query)
    meta = {"nextCursor": page.next_cursor} if page.next_cursor else None
    return call.ok([audit_view(e) for e in page.items], meta=meta)

"""`keyguard keys ...`: one coroutine per command.

The CLI acts as an operator: it may act on any account's key by id alone, and narrows to one
account only when `--account` is given.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from keyguard.core import (
    Access,
    KeyQuery,
    KeyRecord,
    KeySort,
    KeyStatus,
    Restrictions,
    UsageLimits,
    ValidationError,
    deleted_view,
    id_pattern,
    parse_duration,
    utcnow,
)
from keyguard.services import DEFAULT_GRACE, MAX_PAGE

from ._app import ACTOR, App, CliError, collect
from ._limit_flags import create_limits, limit_changes
from ._output import KEY_COLUMNS, display_time, key_details, key_json, key_row, masked
from ._restriction_flags import create_restrictions, flag_errors, restrict_changes

__all__ = [
    "DEFAULT_ACCOUNT",
    "create",
    "delete",
    "key_id",
    "limit",
    "list_keys",
    "rename",
    "restrict",
    "revoke",
    "roll",
    "show",
]

DEFAULT_ACCOUNT = "default"
_KEY_ID = id_pattern("key_")


def key_id(text: str) -> str:
    """The id, if it looks like one. Errors repeat the id, so this keeps a key value pasted
    by mistake (or a newline) out of them."""
    if not _KEY_ID.fullmatch(text):
        raise CliError("that is not a key id: key ids look like key_01JD3Z...")
    return text


def _expiry(text: str | None) -> datetime | None:
    if text is None:
        return None
    lifetime = parse_duration(text, "--expires-in")
    if not lifetime:  # the API would mint a key expired from the start: surely not meant
        raise ValidationError.single("--expires-in", "must be longer than 0s")
    return utcnow() + lifetime


async def create(app: App, args: argparse.Namespace) -> None:
    expires_at = _expiry(args.expires_in)
    manager = await app.manager()
    try:
        created = await manager.create(
            account=args.account,
            name=args.name,
            environment=args.env,
            access=args.access,
            owner=args.owner,
            expires_at=expires_at,
            actor=ACTOR,
            **create_restrictions(args),
            **create_limits(args),
        )
    except ValidationError as exc:
        raise flag_errors(exc, args) from None
    record = created.record
    app.out.note(f"Created {record.id} ({masked(record)}) in account {record.account}.")
    app.out.new_key(created, args.json, app.settings.rate_limit_defaults())


async def list_keys(app: App, args: argparse.Namespace) -> None:
    query = KeyQuery(
        account=args.account,
        owner=args.owner,
        environment=args.env,
        access=None if args.access is None else Access(args.access),
        status=None if args.status is None else KeyStatus(args.status),
        search=args.search,
        sort=KeySort(args.sort),
        limit=MAX_PAGE,
    )
    manager = await app.manager()
    records = await collect(manager.list, query)
    if args.json:
        defaults = app.settings.rate_limit_defaults()
        app.out.json([key_json(r, defaults, detail=False) for r in records])
    else:
        now = utcnow()
        app.out.table(KEY_COLUMNS, [key_row(r, now) for r in records])


async def show(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    record = await manager.get(key, account=args.account)
    _show(app, args, record)


async def rename(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    record = await manager.rename(key, args.name, account=args.account, actor=ACTOR)
    _report(app, args, record, f"{record.id} is now named {record.name!r}.")


async def restrict(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    before = await manager.get(key, account=args.account)
    try:
        record = await manager.restrict(
            key, account=args.account, actor=ACTOR, **restrict_changes(args)
        )
    except ValidationError as exc:
        raise flag_errors(exc, args) from None
    changed = Restrictions.of(record) != Restrictions.of(before)
    said = (
        "restrictions changed" if changed else "it had these restrictions already, nothing changed"
    )
    app.out.note(f"{record.id} ({masked(record)}): {said}.")
    _show(app, args, record)


async def limit(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    before = await manager.get(key, account=args.account)
    record = await manager.limit(key, account=args.account, actor=ACTOR, **limit_changes(args))
    changed = UsageLimits.of(record) != UsageLimits.of(before) or args.quota is not None
    said = "usage limits changed" if changed else "it had these limits already, nothing changed"
    app.out.note(f"{record.id} ({masked(record)}): {said}.")
    _show(app, args, record)


def _show(app: App, args: argparse.Namespace, record: KeyRecord) -> None:
    defaults = app.settings.rate_limit_defaults()
    if args.json:
        app.out.json(key_json(record, defaults))
    else:
        app.out.fields(key_details(record, utcnow(), defaults))


async def revoke(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    record = await manager.revoke(key, account=args.account, actor=ACTOR)
    _report(app, args, record, f"{record.id} ({masked(record)}) is revoked: it no longer works.")


async def delete(app: App, args: argparse.Namespace) -> None:
    key = key_id(args.id)
    manager = await app.manager()
    record = await manager.delete(key, account=args.account, actor=ACTOR)
    if args.json:
        app.out.json(deleted_view(record.id))
    else:
        app.out.line(f"{record.id} ({masked(record)}) is deleted.")


def _report(app: App, args: argparse.Namespace, record: KeyRecord, text: str) -> None:
    if args.json:
        app.out.json(key_json(record, app.settings.rate_limit_defaults()))
    else:
        app.out.line(text)


async def roll(app: App, args: argparse.Namespace) -> None:
    grace = DEFAULT_GRACE if args.grace is None else parse_duration(args.grace, "--grace")
    old_id = key_id(args.id)
    manager = await app.manager()
    created = await manager.roll(old_id, grace=grace, account=args.account, actor=ACTOR)
    old = await manager.get(old_id)
    app.out.note(f"Rolled {old_id}: it keeps working until {display_time(old.expires_at)}.")
    app.out.note(f"Created {created.record.id} ({masked(created.record)}) to replace it.")
    app.out.new_key(created, args.json, app.settings.rate_limit_defaults())

"""`keyguard migrate`, `keyguard audit` and `keyguard accounts ...`."""

from __future__ import annotations

import argparse

from keyguard._report import describe_store
from keyguard.core import AccountSettings, AuditEventType, AuditQuery, validate_name
from keyguard.services import MAX_PAGE

from ._app import App, BadSettingError, collect
from ._keys import key_id
from ._output import AUDIT_COLUMNS, audit_json, audit_row

__all__ = ["audit", "migrate", "set_account"]


async def migrate(app: App, args: argparse.Namespace) -> None:
    try:
        applied = await app.store.migrate()
    except ValueError as exc:  # a database URL that does not parse
        raise BadSettingError(str(exc)) from None
    where = describe_store(app.settings.database_url)
    if applied:
        versions = ", ".join(f"{v:04d}" for v in applied)
        app.out.note(f"Applied migrations {versions} to {where}.")
    else:
        app.out.note(f"The schema of {where} is up to date.")


async def audit(app: App, args: argparse.Namespace) -> None:
    query = AuditQuery(
        account=args.account,
        event=None if args.event is None else AuditEventType(args.event),
        key_id=None if args.key is None else key_id(args.key),
        limit=min(args.limit, MAX_PAGE),
    )
    manager = await app.manager()
    events = await collect(manager.audit, query, args.limit)
    if args.json:
        app.out.json([audit_json(e) for e in events])
    else:
        app.out.table(AUDIT_COLUMNS, [audit_row(e) for e in events])


async def set_account(app: App, args: argparse.Namespace) -> None:
    # The manager trims and checks account names when minting; settings must name the same one.
    settings = AccountSettings(
        validate_name(args.account, "account"), args.one_secret_key_per_owner
    )
    manager = await app.manager()
    await manager.set_account_settings(settings)
    rule = "on" if settings.one_secret_key_per_owner else "off"
    app.out.line(f"Account {settings.account}: one secret key per owner is {rule}.")

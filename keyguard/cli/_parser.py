"""The command line. Each command is one `_command(...)` entry naming its coroutine, so adding
a command (`keyguard demo`, `keyguard bench`) is one coroutine and one entry here."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TypeAlias

from keyguard import __version__
from keyguard.adapters import DEFAULT_DATABASE_URL
from keyguard.core import Access, AuditEventType, KeySort, KeyStatus

from . import _admin, _admin_page, _demo, _doctor, _keys
from ._app import Handler
from ._limit_flags import add_limit_flags
from ._restriction_flags import add_create_flags, add_restrict_flags

__all__ = ["build_parser", "normalize_argv"]

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keyguard", description="Manage keyguard API keys from the command line."
    )
    parser.add_argument(
        "--database-url",
        help=f"the key store (default: $KEYGUARD_DATABASE_URL, else {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--redis-url", help="the shared cache (default: $KEYGUARD_REDIS_URL)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the log (retries, migrations)"
    )
    parser.add_argument("--version", action="version", version=f"keyguard {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _command(commands, "migrate", _admin.migrate, "create or upgrade the database schema")
    _command(commands, "doctor", _doctor.doctor, "check the settings, store, keys and Redis")
    _add_keys(_group(commands, "keys", "mint, list, restrict and retire API keys"))
    _add_audit(commands)
    _add_accounts(_group(commands, "accounts", "per-account settings"))
    _add_demo(commands)
    _add_admin_page(commands)
    return parser


def _add_demo(commands: Commands) -> None:
    parser = _command(commands, "demo", _demo.demo, "serve the demo storefront behind keyguard")
    parser.add_argument("--host", default="127.0.0.1", help="(default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="(default 8000)")


def _add_admin_page(commands: Commands) -> None:
    summary = "serve the admin page (Settings -> API keys) on 127.0.0.1 for one account"
    parser = _command(commands, "admin", _admin_page.serve_admin_page, summary)
    parser.add_argument("--account", required=True, help="whose keys the page manages")
    parser.add_argument("--owner", help="the owner of the keys you create there")
    parser.add_argument("--port", type=int, default=8001, help="(default 8001)")


def _group(commands: Commands, name: str, summary: str) -> Commands:
    parser = commands.add_parser(name, help=summary, description=summary)
    return parser.add_subparsers(title="commands", metavar="COMMAND", required=True)


def _command(
    commands: Commands, name: str, handler: Handler, summary: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    parser.set_defaults(handler=handler)
    return parser


def _add_keys(keys: Commands) -> None:
    create = _command(keys, "create", _keys.create, "mint a key and print its value, once")
    create.add_argument("--name", required=True)
    create.add_argument("--env", required=True, help="environment, e.g. test or live")
    create.add_argument("--access", required=True, choices=[a.value for a in Access])
    create.add_argument("--account", default=_keys.DEFAULT_ACCOUNT)
    create.add_argument("--owner")
    create.add_argument("--expires-in", metavar="DURATION", help="e.g. 90s, 15m, 24h, 30d, 2w")
    _json_option(create)
    add_create_flags(create)
    add_limit_flags(create, change=False)
    _add_list(_command(keys, "list", _keys.list_keys, "list keys (metadata only)"))
    _id_command(keys, "show", _keys.show, "show one key")
    _id_command(keys, "rename", _keys.rename, "rename a key").add_argument("name")
    restrict = _id_command(
        keys, "restrict", _keys.restrict, "change what a key may do, or where it may be used from"
    )
    add_restrict_flags(restrict)
    limit = _id_command(
        keys, "limit", _keys.limit, "change a key's rate limits or quota (a quota given resets it)"
    )
    add_limit_flags(limit, change=True)
    _id_command(keys, "revoke", _keys.revoke, "revoke a key now, irreversibly")
    _id_command(keys, "delete", _keys.delete, "delete a revoked key for good")
    roll = _id_command(keys, "roll", _keys.roll, "replace a key; the old one works for a while")
    roll.add_argument("--grace", metavar="DURATION", help="how long the old key works (24h)")


def _add_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", help="only this account's keys (default: every account)")
    parser.add_argument("--owner")
    parser.add_argument("--env", help="only this environment's keys")
    parser.add_argument("--access", choices=[a.value for a in Access])
    parser.add_argument("--status", choices=[s.value for s in KeyStatus])
    parser.add_argument("--search", metavar="TEXT", help="name contains, any case")
    parser.add_argument(
        "--sort",
        default=KeySort.CREATED_DESC.value,
        choices=[s.value for s in KeySort],
        help="a leading - sorts descending (default: -createdAt, newest first)",
    )
    _json_option(parser)


def _id_command(
    commands: Commands, name: str, handler: Handler, summary: str
) -> argparse.ArgumentParser:
    parser = _command(commands, name, handler, summary)
    parser.add_argument("id", metavar="ID")
    parser.add_argument("--account", help="act only if the key belongs to this account")
    _json_option(parser)
    return parser


def _add_audit(commands: Commands) -> None:
    parser = _command(commands, "audit", _admin.audit, "the latest lifecycle events, newest first")
    parser.add_argument("--account", help="only this account's events (default: every account)")
    parser.add_argument("--event", choices=[e.value for e in AuditEventType])
    parser.add_argument("--key", metavar="ID", help="only this key's events")
    parser.add_argument("--limit", type=_positive, default=50, metavar="N", help="(default 50)")
    _json_option(parser)


def _add_accounts(accounts: Commands) -> None:
    parser = _command(accounts, "set", _admin.set_account, "change an account's settings")
    parser.add_argument("account", metavar="ACCOUNT")
    rule = parser.add_mutually_exclusive_group(required=True)
    flag, dest = "one-secret-key-per-owner", "one_secret_key_per_owner"
    rule.add_argument(
        f"--{flag}",
        dest=dest,
        action="store_true",
        default=None,
        help="an owner may hold only one active secret key at a time",
    )
    rule.add_argument(f"--no-{flag}", dest=dest, action="store_false", help="lift that limit")


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON, in the HTTP API's shapes")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return int(text)


def normalize_argv(argv: Sequence[str]) -> list[str]:
    """Join `--sort -name` into `--sort=-name`: argparse takes a value starting with `-` for
    an option, yet descending sorts are spelled that way."""
    sorts = {s.value for s in KeySort}
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--sort" and i + 1 < len(argv) and argv[i + 1] in sorts:
            out.append(f"--sort={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out

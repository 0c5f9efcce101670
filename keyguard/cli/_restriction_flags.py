"""The restriction flags of `keys create` and `keys restrict`, and what they ask the manager for.

Each restriction is one list flag, repeatable (`--permission a:b --permission c:d`), and on
`restrict` also flags that empty it or lift it: they share one destination, in a mutually
exclusive group, so argparse itself refuses `--permission a:b --no-permissions`.

The manager names fields as the HTTP API does (`permissions[1]`, `allowedOrigins`); a user of
the CLI typed flags, so its errors are renamed to them. A rejected value is named by its place,
never repeated: a key value pasted into the wrong flag must not be echoed to the terminal.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from keyguard.core import UNCHANGED, FieldIssue, Unchanged, ValidationError

__all__ = [
    "RESTRICTIONS",
    "add_create_flags",
    "add_restrict_flags",
    "create_restrictions",
    "flag_errors",
    "restrict_changes",
]

LIFT = "lift"  # a destination's value for "lift this restriction": lists are never a str


@dataclass(frozen=True)
class Restriction:
    field: str  # the manager's keyword argument, and the destination on the Namespace
    api_name: str  # the HTTP API's field name, as ValidationError names it
    flag: str
    metavar: str
    only: str  # help: what the list limits
    empty_flag: str | None  # sets the empty list (may do nothing); None: no such flag
    lift_flag: str
    lifted: str  # help: what lifting means


RESTRICTIONS = (
    Restriction(
        "permissions",
        "permissions",
        "--permission",
        "PERMISSION",
        "only this permission, e.g. orders:read, or orders:* for every action on orders",
        "--no-permissions",
        "--unrestricted-permissions",
        "lift the permission set: the key may do whatever its access allows",
    ),
    Restriction(
        "allowed_origins",
        "allowedOrigins",
        "--allowed-origin",
        "ORIGIN",
        "publishable keys: only from this browser origin, e.g. https://shop.example.com"
        " or https://*.example.com",
        None,
        "--any-origin",
        "lift the origin list: the key is usable from anywhere",
    ),
    Restriction(
        "allowed_networks",
        "allowedNetworks",
        "--allowed-network",
        "CIDR",
        "secret keys: only from this network, e.g. 10.0.0.0/8 or 2001:db8::/32",
        None,
        "--any-network",
        "lift the network list: the key is usable from anywhere",
    ),
)


ALL_FLAGS = tuple(
    flag for r in RESTRICTIONS for flag in (r.flag, r.empty_flag, r.lift_flag) if flag is not None
)


def add_create_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "restrictions", "Without these the key may do what its access allows, from anywhere."
    )
    for r in RESTRICTIONS:
        choice = group.add_mutually_exclusive_group() if r.empty_flag else group
        _list_flag(choice, r, "repeatable")
        if r.empty_flag:
            _empty_flag(choice, r.empty_flag, r)


def add_restrict_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "restrictions", "Name at least one; the ones not named stay as they are."
    )
    for r in RESTRICTIONS:
        choice = group.add_mutually_exclusive_group()
        _list_flag(choice, r, "repeatable; replaces what the key has")
        if r.empty_flag:
            _empty_flag(choice, r.empty_flag, r)
        choice.add_argument(
            r.lift_flag, dest=r.field, action="store_const", const=LIFT, help=r.lifted
        )
    parser.set_defaults(usage_check=_named_one(parser))


def _list_flag(group: argparse._ActionsContainer, r: Restriction, repeat: str) -> None:
    group.add_argument(
        r.flag, dest=r.field, action="append", metavar=r.metavar, help=f"{r.only} ({repeat})"
    )


def _empty_flag(group: argparse._ActionsContainer, flag: str, r: Restriction) -> None:
    help_text = "no permissions at all: the key may do nothing until some are granted"
    group.add_argument(flag, dest=r.field, action="store_const", const=(), help=help_text)


def _named_one(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], None]:
    """A check run after parsing (argparse has no "one of these groups" rule)."""

    def check(args: argparse.Namespace) -> None:
        if all(getattr(args, r.field) is None for r in RESTRICTIONS):
            parser.error(f"name a restriction to change: {', '.join(ALL_FLAGS)}")

    return check


class CreateLimits(TypedDict):
    permissions: list[str] | None
    allowed_origins: list[str] | None
    allowed_networks: list[str] | None


class LimitChanges(TypedDict):
    permissions: list[str] | Unchanged | None
    allowed_origins: list[str] | Unchanged | None
    allowed_networks: list[str] | Unchanged | None


def create_restrictions(args: argparse.Namespace) -> CreateLimits:
    """`KeyManager.create`'s restriction arguments: None where no flag was given."""

    def given(field: str) -> list[str] | None:
        value = getattr(args, field)
        return None if value is None else list(value)

    return CreateLimits(
        permissions=given("permissions"),
        allowed_origins=given("allowed_origins"),
        allowed_networks=given("allowed_networks"),
    )


def restrict_changes(args: argparse.Namespace) -> LimitChanges:
    """`KeyManager.restrict`'s arguments: UNCHANGED where no flag was given, None to lift."""

    def change(field: str) -> list[str] | Unchanged | None:
        value = getattr(args, field)
        return UNCHANGED if value is None else None if value == LIFT else list(value)

    return LimitChanges(
        permissions=change("permissions"),
        allowed_origins=change("allowed_origins"),
        allowed_networks=change("allowed_networks"),
    )


_INDEXED = re.compile(r"(\w+)\[(\d+)\]")


def flag_errors(exc: ValidationError, args: argparse.Namespace) -> ValidationError:
    """The error with the API's field names replaced by the flags that set them
    (`permissions[1]` -> `--permission #2`, the position among that flag's values)."""
    flags = {r.api_name: r for r in RESTRICTIONS}
    issues = []
    for issue in exc.issues:
        indexed = _INDEXED.fullmatch(issue.field)
        name, index = indexed.groups() if indexed else (issue.field, None)
        r = flags.get(name)
        if r is None:
            issues.append(issue)
            continue
        given = getattr(args, r.field, None)
        several = isinstance(given, list | tuple) and len(given) > 1
        place = f" #{int(index) + 1}" if index is not None and several else ""
        issues.append(FieldIssue(f"{r.flag}{place}", issue.message))
    return ValidationError(issues)

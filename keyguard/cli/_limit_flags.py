"""The usage-limit flags of `keys create` and `keys limit`, and what they ask the manager for.

`--rate-limit COUNT/WINDOW` is repeatable; `--no-rate-limits` (none at all) and, on `limit`,
`--default-rate-limits` (the settings' default again) share its destination in a mutually
exclusive group, as `--quota N` and `--no-quota` do. `--refill AMOUNT/INTERVAL` goes with
`--quota`. A bad value is a usage error (exit 2) naming the flag and the rule, never the value.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from keyguard.core import (
    MAX_QUOTA,
    UNCHANGED,
    RateLimit,
    ValidationError,
    parse_rate_limit,
    parse_refill_interval,
    rate_limit_input,
)

__all__ = ["add_limit_flags", "create_limits", "limit_changes"]

DEFAULT = "default"  # `--default-rate-limits`: rate limits are never a str
NO_QUOTA = "none"  # `--no-quota`: a quota is an int
_REFILL = "must be AMOUNT/INTERVAL, an amount from 1 to {max} and an interval from 1s to 366d"
_CHANGE_FLAGS = "--rate-limit, --no-rate-limits, --default-rate-limits, --quota, --no-quota"


def _rate_limit(text: str) -> RateLimit:
    try:
        return parse_rate_limit(text)
    except ValueError as exc:  # argparse shows this message alone, without the value
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole(text: str, low: int) -> int | None:
    if text.isascii() and text.isdigit() and low <= int(text) <= MAX_QUOTA:
        return int(text)
    return None


def _quota(text: str) -> int:
    value = _whole(text, 0)
    if value is None:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_QUOTA}")
    return value


def _refill(text: str) -> tuple[int, str]:
    amount, _, interval = text.partition("/")
    value = _whole(amount, 1)
    try:
        parse_refill_interval(interval)
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(_REFILL.format(max=MAX_QUOTA) + ", e.g. 1000/1d")
    return value, interval


def add_limit_flags(parser: argparse.ArgumentParser, *, change: bool) -> None:
    """The flags, on `keys create` (change=False) or `keys limit` (change=True)."""
    note = (
        "Name at least one; the others stay as they are."
        if change
        else ("Without these the key gets the settings' default rate limits and no quota.")
    )
    group = parser.add_argument_group("usage limits", note)
    _rate_flags(group.add_mutually_exclusive_group(), change)
    quota = group.add_mutually_exclusive_group()
    quota.add_argument("--quota", type=_quota, metavar="N", help="an allowance of N requests")
    if change:
        quota.add_argument(
            "--no-quota", dest="quota", action="store_const", const=NO_QUOTA, help="lift it"
        )
    group.add_argument(
        "--refill",
        type=_refill,
        metavar="AMOUNT/INTERVAL",
        help="with --quota: set it back to at least AMOUNT every INTERVAL, e.g. 1000/1d",
    )
    parser.set_defaults(usage_check=_checked(parser, change))


def _rate_flags(rates: argparse._MutuallyExclusiveGroup, change: bool) -> None:
    rates.add_argument(
        "--rate-limit",
        dest="rate_limits",
        action="append",
        type=_rate_limit,
        metavar="COUNT/WINDOW",
        help="at most COUNT requests per WINDOW, e.g. 100/s, 5000/h, 500/15m (repeatable, up"
        " to 4" + ("; replaces what the key has)" if change else ")"),
    )
    rates.add_argument(
        "--no-rate-limits",
        dest="rate_limits",
        action="store_const",
        const=(),
        help="no rate limit at all, whatever the settings' default",
    )
    if change:
        rates.add_argument(
            "--default-rate-limits",
            dest="rate_limits",
            action="store_const",
            const=DEFAULT,
            help="the settings' default rate limits again",
        )


def _checked(parser: argparse.ArgumentParser, change: bool) -> Callable[[argparse.Namespace], None]:
    """The rules across flags (argparse has no "one of these groups" or "with that" rule)."""

    def check(args: argparse.Namespace) -> None:
        if args.refill is not None and not isinstance(args.quota, int):
            parser.error("--refill goes with --quota N")
        if change and args.rate_limits is None and args.quota is None:
            parser.error(f"name a limit to change: {_CHANGE_FLAGS}")
        if isinstance(args.rate_limits, list):
            try:
                rate_limit_input(args.rate_limits)
            except ValidationError as exc:
                issue = exc.issues[0]
                place = issue.field.removeprefix("rateLimits")
                where = f" #{int(place[1:-1]) + 1}" if place else ""
                parser.error(f"--rate-limit{where}: {issue.message}")

    return check


def _rate_limits(args: argparse.Namespace) -> Any:
    value = args.rate_limits
    return None if value == DEFAULT else list(value)


def _quota_input(args: argparse.Namespace) -> dict[str, Any] | None:
    if not isinstance(args.quota, int):
        return None
    quota: dict[str, Any] = {"remaining": args.quota}
    if args.refill is not None:
        quota["refillAmount"], quota["refillInterval"] = args.refill
    return quota


def create_limits(args: argparse.Namespace) -> dict[str, Any]:
    """`KeyManager.create`'s limit arguments: None (the default, no quota) where not given."""
    given = args.rate_limits is not None
    return {"rate_limits": _rate_limits(args) if given else None, "quota": _quota_input(args)}


def limit_changes(args: argparse.Namespace) -> dict[str, Any]:
    """`KeyManager.limit`'s arguments: UNCHANGED where no flag was given."""
    rates = UNCHANGED if args.rate_limits is None else _rate_limits(args)
    return {"rate_limits": rates, "quota": UNCHANGED if args.quota is None else _quota_input(args)}

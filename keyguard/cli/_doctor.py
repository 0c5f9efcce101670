"""`keyguard doctor`: one line per check of what this machine's settings point at, exit 1 if
any failed. For the questions behind a silent 401: which store, which pepper, and whether the
keys in it were stored under that pepper."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from keyguard._report import describe_store, unknown_peppers
from keyguard.core import KeyguardError, utcnow

from ._app import App, CliError

__all__ = ["doctor"]

Check = Callable[[App], Awaitable[str]]


async def doctor(app: App, args: argparse.Namespace) -> None:
    checks: list[tuple[str, Check]] = [
        ("settings", _settings),
        ("store", _store),
        ("keys", _keys),
        ("redis", _redis),
    ]
    failed = []
    for name, check in checks:
        try:
            line = await check(app)
        except (KeyguardError, CliError, ValueError) as exc:
            failed.append(name)
            app.out.line(f"FAIL  {name:<9} {' '.join(str(exc).split())}")
            if name == "store":
                break  # the checks after it need it
        else:
            app.out.line(f"ok    {name:<9} {line}")
    if failed:
        raise CliError(f"{len(failed)} check(s) failed: {', '.join(failed)}")


async def _settings(app: App) -> str:
    s, guard = app.settings, app.guard
    previous = [h.version for h in guard.verifier.previous_hashers]
    peppers = guard.hasher.version + (f" (previous: {', '.join(previous)})" if previous else "")
    return f"environments {', '.join(s.environments)}; pepper {peppers}"


async def _store(app: App) -> str:
    await app.store.open()  # checks the schema too: not migrated is a failure here
    last = await app.store.last_change()
    return f"{describe_store(app.settings.database_url)} (schema current; change log at {last})"


async def _keys(app: App) -> str:
    by_version = await app.store.active_keys_by_hash_version(utcnow())
    strangers = unknown_peppers(by_version, app.guard.known_hash_versions)
    if strangers:
        raise CliError(
            f"{sum(strangers.values())} valid keys are stored under a pepper these settings do"
            f" not have ({', '.join(sorted(strangers))}): set KEYGUARD_PEPPER (or list the"
            " old one in KEYGUARD_PREVIOUS_PEPPERS)"
        )
    return f"{sum(by_version.values())} valid, all under a pepper these settings have"


async def _redis(app: App) -> str:
    cache = app.guard.shared_cache
    if cache is None:
        return "none: each process checks keys against the store after its local cache"
    await cache.ping()
    return "answers"

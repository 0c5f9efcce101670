"""What every command runs with: the settings, and the store and manager, made on first use.

Making the store lazily is what lets `migrate` reach a database that `open()` would refuse, and
lets a future command that needs no database (a demo, say) run without one.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from keyguard._guard import KeyGuard
from keyguard._report import unknown_peppers
from keyguard._settings import Settings
from keyguard.adapters import PostgresKeyStore, SQLiteKeyStore
from keyguard.core import AuditEvent, AuditQuery, KeyQuery, KeyRecord, Page, utcnow
from keyguard.ports import Observer
from keyguard.services import KeyChange, KeyManager

from ._output import Output

__all__ = [
    "ACTOR",
    "App",
    "BadSettingError",
    "CliError",
    "Handler",
    "collect",
    "execute",
    "settings_from_args",
]

ACTOR = "cli"  # who the audit log says made a change
Store = SQLiteKeyStore | PostgresKeyStore
Q = TypeVar("Q", KeyQuery, AuditQuery)
T = TypeVar("T", KeyRecord, AuditEvent)


class CliError(Exception):
    """A failure the user can fix, reported in one line with exit status 1."""


class BadSettingError(CliError):
    """A setting or global option no command can run with: exit status 2, as for a usage
    error, since running again unchanged cannot help."""


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The library's settings from the environment, with the global options winning.
    An empty variable counts as unset, as `KEYGUARD_DATABASE_URL= keyguard ...` intends."""
    options = {"database_url": args.database_url, "redis_url": args.redis_url}
    try:
        return Settings.from_env(environ, **{k: v for k, v in options.items() if v})
    except ValueError as exc:
        raise BadSettingError(str(exc)) from None


class App:
    """The CLI's guard: its manager tells the shared cache (when `--redis-url` is set) of every
    change, so a key revoked here is refused by every server within the second."""

    def __init__(self, settings: Settings, out: Output) -> None:
        self.settings = settings
        self.out = out
        self._guard: KeyGuard | None = None
        self.observer: Observer | None = None  # for the guard, when set before it is made
        self._manager: KeyManager | None = None
        # Why the shared cache did not hear of a change made here, if it did not.
        self.untold: Exception | None = None

    @property
    def guard(self) -> KeyGuard:
        if self._guard is None:
            try:
                self._guard = KeyGuard(self.settings, observer=self.observer)
            except ValueError as exc:  # a database or Redis URL, the environments...
                raise BadSettingError(str(exc)) from None
        return self._guard

    @property
    def store(self) -> Store:
        """The store for the database URL, not opened yet."""
        return self.guard.store  # type: ignore[return-value]

    async def manager(self) -> KeyManager:
        """A manager over the opened store. Not the guard's own: this one also tells the CLI
        when running servers could not be told of a change at once, which a server's manager
        only logs."""
        if self._manager is None:
            guard = self.guard
            try:
                await guard.store.open()
            except ValueError as exc:  # a database URL that does not parse
                raise BadSettingError(str(exc)) from None
            self._manager = KeyManager(
                guard.store,
                key_format=guard.key_format,
                hasher=guard.hasher,
                listeners=[self._tell_servers],
            )
            await self._check_pepper()
        return self._manager

    async def _check_pepper(self) -> None:
        """Say so when the store's keys were made under a pepper these settings lack: a key
        minted here would then be refused by the servers, or theirs by these settings."""
        by_version = await self.guard.store.active_keys_by_hash_version(utcnow())
        strangers = unknown_peppers(by_version, self.guard.known_hash_versions)
        if strangers:
            self.out.note(
                f"keyguard: warning: {sum(strangers.values())} valid keys are stored under a"
                f" pepper these settings do not have ({', '.join(sorted(strangers))}); keys"
                " minted here use " + self.guard.hasher.version + ": set KEYGUARD_PEPPER as"
                " the servers do (`keyguard doctor` checks)"
            )

    async def _tell_servers(self, change: KeyChange) -> None:
        try:
            await self.guard.verifier.on_key_change(change)
        except Exception as exc:
            self.untold = exc
            raise  # the manager logs it, as it does in a server

    def untold_warning(self) -> str | None:
        """One line for stderr when a change is saved but servers were not told at once."""
        if self.untold is None:
            return None
        bound = f"{self.settings.max_staleness:g} s"
        return (
            f"keyguard: warning: the change is saved, but running servers were not told at"
            f" once ({' '.join(str(self.untold).split())}); they see it within {bound}, when"
            " they next read the store's change log"
        )

    async def close(self) -> None:
        if self._guard is not None:
            await self._guard.store.close()
            if self._guard.shared_cache is not None:
                await self._guard.shared_cache.close()


Handler = Callable[[App, argparse.Namespace], Awaitable[None]]


async def execute(app: App, handler: Handler, args: argparse.Namespace) -> None:
    try:
        await handler(app, args)
        warning = app.untold_warning()
        if warning is not None:
            app.out.note(warning)
    finally:
        await app.close()


async def collect(
    fetch: Callable[[Q], Awaitable[Page[T]]], query: Q, limit: int | None = None
) -> list[T]:
    """Every item the query matches, or the first `limit`, read page by page (the manager
    gives out at most `MAX_PAGE` at a time)."""
    items: list[T] = []
    while True:
        page = await fetch(query)
        items.extend(page.items)
        if page.next_cursor is None or (limit is not None and len(items) >= limit):
            return items[:limit]
        query = dataclasses.replace(query, cursor=page.next_cursor)

"""Running the CLI in-process and reading what it printed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from keyguard import KeyFormat, KeyHasher, KeyManager, KeyRecord, ParsedKey, store_from_url
from keyguard.cli import main

PEPPER = "cli-test-pepper-not-a-secret"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def value(self) -> str:
        """The key value a plain create or roll printed: alone on stdout's only line."""
        assert self.code == 0, self.err
        lines = self.out.splitlines()
        assert len(lines) == 1, self.out
        KeyFormat().parse(lines[0])
        return lines[0]

    def error_line(self) -> str:
        """The one stderr line of a failure (exit status 1, no traceback, nothing on stdout)."""
        assert self.code == 1, (self.code, self.out, self.err)
        assert self.out == ""
        assert "Traceback" not in self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("keyguard: error: ")
        return lines[0]


class Cli:
    """`main([--database-url URL, *args])`, with stdout and stderr captured."""

    def __init__(self, capsys: pytest.CaptureFixture[str], database_url: str | None) -> None:
        self._capsys = capsys
        self.database_url = database_url

    def __call__(self, *args: str) -> Result:
        self._capsys.readouterr()
        url = [] if self.database_url is None else ["--database-url", self.database_url]
        code = main([*url, *args])
        out, err = self._capsys.readouterr()
        return Result(code, out, err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, result.err
        return result

    def create(
        self,
        account: str,
        name: str = "k",
        *,
        env: str = "test",
        access: str = "secret",
        extra: Sequence[str] = (),
    ) -> tuple[str, dict[str, Any]]:
        """Mint a key through `keys create --json`: its value and its record."""
        args = ["--name", name, "--account", account, "--env", env, "--access", access, *extra]
        record = self.ok("keys", "create", *args, "--json").json()
        return record.pop("value"), record

    def record(self, key_id: str) -> dict[str, Any]:
        return self.ok("keys", "show", key_id, "--json").json()  # type: ignore[no-any-return]


def parse(value: str) -> ParsedKey:
    return KeyFormat().parse(value)


def find_by_value(database_url: str, value: str, pepper: str) -> KeyRecord | None:
    """The record stored under `value`'s digest with `pepper`, read straight from the store."""

    async def find() -> KeyRecord | None:
        store = store_from_url(database_url)
        await store.open()
        try:
            return await store.find_by_digest(KeyHasher(pepper).digest(value))
        finally:
            await store.close()

    return asyncio.run(find())


def seed(database_url: str, account: str, count: int) -> list[str]:
    """Mint `count` keys through the manager directly (fast), returning their ids."""

    async def mint() -> list[str]:
        store = store_from_url(database_url)
        await store.open()
        manager = KeyManager(store, hasher=KeyHasher(PEPPER))
        try:
            return [
                (
                    await manager.create(
                        account=account,
                        name=f"seed {i:03d}",
                        environment="test",
                        access="publishable",
                    )
                ).record.id
                for i in range(count)
            ]
        finally:
            await store.close()

    return asyncio.run(mint())

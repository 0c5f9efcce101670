"""Versioned schema migrations, shipped as SQL files named `NNNN_description.sql` per dialect."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import NamedTuple

__all__ = ["MIGRATIONS_TABLE", "Migration", "latest_version", "migrations"]

MIGRATIONS_TABLE = "keyguard_schema_migrations"


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


@cache
def migrations(dialect: str) -> tuple[Migration, ...]:
    folder = resources.files("keyguard.adapters.migrations").joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return tuple(sorted(found))


def latest_version(dialect: str) -> int:
    return migrations(dialect)[-1].version

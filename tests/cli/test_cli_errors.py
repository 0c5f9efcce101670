"""Every failure is one line on stderr and exit status 1 (usage errors: 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyguard import __version__
from keyguard.adapters._migrations import latest_version
from keyguard.cli import main

from ._support import Cli

UNKNOWN_ID = "key_01JD3Z0000000000000000000X"
CREATE = ["keys", "create", "--env", "test", "--access", "secret"]


@pytest.mark.parametrize(
    "command",
    [
        ["keys", "show", UNKNOWN_ID],
        ["keys", "rename", UNKNOWN_ID, "x"],
        ["keys", "revoke", UNKNOWN_ID],
        ["keys", "delete", UNKNOWN_ID],
        ["keys", "roll", UNKNOWN_ID],
    ],
)
def test_unknown_id(cli: Cli, command: list[str]) -> None:
    assert cli(*command).error_line() == f"keyguard: error: no API key with id '{UNKNOWN_ID}'"


def test_an_id_that_is_not_an_id_is_not_repeated(cli: Cli, account: str) -> None:
    value, _ = cli.create(account)
    for bad in (value, "nope", "key_x\nkeyguard: error: fake"):
        line = cli("keys", "show", bad).error_line()
        assert line == "keyguard: error: that is not a key id: key ids look like key_01JD3Z..."
    assert value not in cli("audit", "--key", value).error_line()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--name", ""], "name: must be 1 to 100 characters"),
        (["--name", "   "], "name: must be 1 to 100 characters"),
        (["--name", "n" * 101], "name: must be 1 to 100 characters"),
        (["--name", "tab\there"], "name: must not contain control or invisible characters"),
        (["--name", "x", "--account", ""], "account: must be 1 to 100 characters"),
        (["--name", "x", "--env", "prod"], "environment: must be one of: test, live"),
        (["--name", "x", "--expires-in", "3y"], "--expires-in: must be a number and a unit"),
        (["--name", "x", "--expires-in", "0s"], "--expires-in: must be longer than 0s"),
    ],
)
def test_bad_create_input(cli: Cli, account: str, options: list[str], message: str) -> None:
    # The last --env / --account wins in argparse, so the defaults can be overridden.
    args = [*CREATE, "--account", account, *options]
    assert message in cli(*args).error_line()
    assert cli.ok("keys", "list", "--account", account, "--json").json() == []


def test_bad_rename_and_roll_input(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "kept")
    assert "name: must be 1 to 100" in cli("keys", "rename", record["id"], "").error_line()
    assert "name: must be 1 to 100" in cli("keys", "rename", record["id"], "r" * 101).error_line()
    assert "--grace: must be" in cli("keys", "roll", record["id"], "--grace", "soon").error_line()
    assert (
        "grace: must be between 0 and 30"
        in cli("keys", "roll", record["id"], "--grace", "31d").error_line()
    )
    assert cli.record(record["id"]) == record


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/x", "cannot connect to PostgreSQL at"),
        ("sqlite:////no/such/folder/k.db", "cannot open SQLite database"),
    ],
)
@pytest.mark.parametrize("command", [["keys", "list"], ["audit"], ["migrate"]])
def test_unusable_database(
    capsys: pytest.CaptureFixture[str], url: str, message: str, command: list[str]
) -> None:
    if command == ["migrate"] and url.startswith("sqlite"):
        message = "cannot open SQLite database"
    line = Cli(capsys, url)(*command).error_line()
    assert message in line


def test_an_unsupported_database_url_is_a_bad_setting(capsys: pytest.CaptureFixture[str]) -> None:
    result = Cli(capsys, "mysql://root:hunter2@db/keys")("keys", "list")
    assert (result.code, result.out) == (2, "")
    assert result.err == "keyguard: error: unsupported database URL 'mysql://root:***@db/keys':" + (
        " use sqlite:///path.db or postgresql://...\n"
    )


LATEST = latest_version("postgres")
ALL = ", ".join(f"{n:04d}" for n in range(1, LATEST + 1))


def test_unmigrated_postgres(
    capsys: pytest.CaptureFixture[str], empty_pg_database_url: str
) -> None:
    cli = Cli(capsys, empty_pg_database_url)
    for command in (
        ["keys", "list"],
        [*CREATE, "--name", "x"],
        ["keys", "show", UNKNOWN_ID],
        ["audit"],
        ["accounts", "set", "a", "--one-secret-key-per-owner"],
    ):
        line = cli(*command).error_line()
        assert line.endswith(f"keyguard needs {LATEST}: run `keyguard migrate`"), line
    first = cli.ok("migrate")
    assert first.out == "" and f"Applied migrations {ALL} to postgresql://" in first.err
    second = cli.ok("migrate")
    assert "is up to date" in second.err and "Applied" not in second.err
    assert cli.ok("keys", "list", "--json").json() == []
    cli.create("a")
    assert len(cli.ok("keys", "list", "--json").json()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["keys"],
        ["frobnicate"],
        ["keys", "create", "--env", "test", "--access", "secret"],  # no --name
        ["keys", "create", "--name", "x", "--env", "test", "--access", "admin"],
        ["keys", "list", "--status", "lost"],
        ["keys", "list", "--sort", "owner"],
        ["keys", "list", "--database-url", "sqlite://"],  # global options come first
        ["keys", "show"],
        ["audit", "--limit", "0"],
        ["audit", "--limit", "ten"],
        ["audit", "--event", "api_key.stolen"],
        ["accounts", "set", "a"],
        ["accounts", "set", "a", "--one-secret-key-per-owner", "--no-one-secret-key-per-owner"],
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "usage: keyguard" in err and "Traceback" not in err
    assert not (tmp_path / "keyguard.db").exists()


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "keys" in capsys.readouterr().out
    assert main(["keys", "create", "--help"]) == 0
    assert "--expires-in" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"keyguard {__version__}\n"

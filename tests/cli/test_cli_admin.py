"""`keyguard audit`, `keyguard accounts set` and `keyguard migrate`, on SQLite and Postgres."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import Cli


def test_audit_lists_every_lifecycle_event_newest_first(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "first")
    key = record["id"]
    cli.ok("keys", "rename", key, "second")
    new_key = cli.ok("keys", "roll", key, "--json").json()["id"]
    cli.ok("keys", "revoke", key)
    cli.ok("keys", "delete", key)
    events = cli.ok("audit", "--account", account, "--json").json()
    assert [(e["event"], e["keyId"]) for e in events] == [
        ("api_key.deleted", key),
        ("api_key.revoked", key),
        ("api_key.rolled", key),
        ("api_key.created", new_key),
        ("api_key.renamed", key),
        ("api_key.created", key),
    ]
    assert {(e["actor"], e["account"]) for e in events} == {("cli", account)}
    assert events[4]["data"] == {"from": "first", "to": "second"}
    assert all(e["occurredAt"].endswith("Z") and e["id"].startswith("evt_") for e in events)


def test_audit_filters_and_table(cli: Cli, account: str) -> None:
    _, one = cli.create(account, "one")
    _, two = cli.create(account, "two")
    cli.ok("keys", "revoke", one["id"])
    revoked = cli.ok("audit", "--account", account, "--event", "api_key.revoked", "--json").json()
    assert [e["keyId"] for e in revoked] == [one["id"]]
    for_two = cli.ok("audit", "--key", two["id"], "--json").json()
    assert [e["event"] for e in for_two] == ["api_key.created"]
    assert len(cli.ok("audit", "--account", account, "--limit", "2", "--json").json()) == 2
    lines = cli.ok("audit", "--account", account).out.splitlines()
    assert lines[0].split() == ["TIME", "EVENT", "ACCOUNT", "KEY", "ACTOR", "DATA"]
    assert len(lines) == 4
    assert "api_key.revoked" in lines[1] and one["id"] in lines[1] and " cli " in lines[1]
    assert '{"name":"one","environment":"test"}' in lines[3]


def test_one_secret_key_per_owner(cli: Cli, account: str) -> None:
    result = cli.ok("accounts", "set", account, "--one-secret-key-per-owner")
    assert result.out == f"Account {account}: one secret key per owner is on.\n"
    cli.create(account, "first", extra=["--owner", "ana"])
    second = ["keys", "create", "--name", "second", "--env", "test", "--access", "secret"]
    line = cli(*second, "--account", account, "--owner", "ana").error_line()
    assert "one active secret key per owner" in line
    cli.create(account, "publishable", access="publishable", extra=["--owner", "ana"])
    cli.create(account, "other owner", extra=["--owner", "bob"])
    cli.create(f"{account}-other", "other account", extra=["--owner", "ana"])
    cli.ok("accounts", "set", f"  {account} ", "--no-one-secret-key-per-owner")
    cli.create(account, "second", extra=["--owner", "ana"])
    names = [k["name"] for k in cli.ok("keys", "list", "--account", account, "--json").json()]
    assert sorted(names) == ["first", "other owner", "publishable", "second"]


def test_accounts_set_refuses_an_empty_account(cli: Cli) -> None:
    assert (
        "account: must be 1 to 100"
        in cli("accounts", "set", " ", "--one-secret-key-per-owner").error_line()
    )


def test_migrate_reports_an_up_to_date_schema(cli: Cli) -> None:
    cli.ok("migrate")  # a new SQLite file gets its schema here
    result = cli.ok("migrate")
    assert result.out == ""
    assert result.err.strip().endswith("is up to date.")
    cli.ok("keys", "list")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_migrate_creates_a_new_sqlite_file(cli: Cli, tmp_path: Path) -> None:
    assert not (tmp_path / "k.db").exists()
    assert "0001" in cli.ok("migrate").err
    assert (tmp_path / "k.db").stat().st_size > 0
    assert cli.ok("keys", "list", "--json").json() == []

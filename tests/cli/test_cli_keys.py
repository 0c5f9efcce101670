"""The key commands on SQLite and on Postgres: create, list, show, rename, revoke, delete, roll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keyguard import Access

from ._support import Cli, parse, seed


def _time(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


def _near(at: datetime, expected: datetime) -> bool:
    return abs(at - expected) < timedelta(minutes=1)


def test_create_prints_the_value_alone_and_notes_on_stderr(cli: Cli, account: str) -> None:
    result = cli.ok(
        "keys", "create", "--name", "deploy", "--env", "live", "--access", "secret",
        "--account", account, "--owner", "ci",
    )  # fmt: skip
    value = result.value()
    parsed = parse(value)
    assert (parsed.access, parsed.environment, parsed.prefix) == (Access.SECRET, "live", "sk_live_")
    assert "will not be shown again" in result.err
    assert f"{parsed.prefix}…{parsed.last4}" in result.err
    assert value not in result.err
    listed = cli.ok("keys", "list", "--account", account, "--json").json()
    assert [(k["name"], k["owner"], k["last4"]) for k in listed] == [("deploy", "ci", parsed.last4)]
    assert result.err.count(listed[0]["id"]) == 1


def test_create_json_is_the_record_with_its_value(cli: Cli, account: str) -> None:
    created = cli.ok(
        "keys", "create", "--name", "web", "--env", "test", "--access", "publishable",
        "--account", account, "--json",
    ).json()  # fmt: skip
    parsed = parse(created["value"])
    assert parsed.access is Access.PUBLISHABLE
    assert created["prefix"] == "pk_test_" and created["last4"] == parsed.last4
    assert created["id"].startswith("key_")
    assert (created["account"], created["access"], created["environment"]) == (
        account, "publishable", "test",
    )  # fmt: skip
    assert _near(_time(created["createdAt"]), datetime.now(UTC))
    assert created["revokedAt"] is None and created["expiresAt"] is None
    assert cli.record(created["id"]) == {k: v for k, v in created.items() if k != "value"}


def test_create_defaults_to_the_default_account(cli: Cli) -> None:
    result = cli.ok("keys", "create", "--name", "x", "--env", "test", "--access", "secret")
    key_id = cli.ok("keys", "list", "--account", "default", "--search", "x", "--json").json()
    assert cli.record(key_id[0]["id"])["account"] == "default"
    assert "in account default" in result.err


def test_expires_in_sets_the_expiry(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=["--expires-in", "30d"])
    assert _near(_time(record["expiresAt"]), datetime.now(UTC) + timedelta(days=30))
    assert cli.record(record["id"])["expiresAt"] == record["expiresAt"]


def _three_keys(cli: Cli, account: str) -> dict[str, str]:
    ids = {
        "alpha": cli.create(account, "Alpha deploy", env="live")[1]["id"],
        "beta": cli.create(account, "beta web", access="publishable")[1]["id"],
        "gamma": cli.create(account, "Gamma DEPLOY", env="live")[1]["id"],
    }
    cli.ok("keys", "revoke", ids["gamma"])
    return ids


def test_list_json_filters_and_sorts(cli: Cli, account: str) -> None:
    ids = _three_keys(cli, account)
    cli.create(f"{account}-other", "Alpha deploy")

    def names(*options: str) -> list[str]:
        keys = cli.ok("keys", "list", "--account", account, *options, "--json").json()
        assert all("value" not in k for k in keys)
        return [k["name"] for k in keys]

    assert names() == ["Gamma DEPLOY", "beta web", "Alpha deploy"]  # newest first
    assert names("--sort", "createdAt") == ["Alpha deploy", "beta web", "Gamma DEPLOY"]
    assert names("--sort", "name") == ["Alpha deploy", "Gamma DEPLOY", "beta web"]
    assert names("--sort", "-name") == ["beta web", "Gamma DEPLOY", "Alpha deploy"]
    assert names("--env", "live", "--sort", "name") == ["Alpha deploy", "Gamma DEPLOY"]
    assert names("--access", "publishable") == ["beta web"]
    assert names("--status", "revoked") == ["Gamma DEPLOY"]
    assert names("--status", "active", "--sort", "name") == ["Alpha deploy", "beta web"]
    assert names("--search", "deploy", "--sort", "name") == ["Alpha deploy", "Gamma DEPLOY"]
    keys = cli.ok("keys", "list", "--account", account, "--json").json()
    assert {k["id"] for k in keys} == set(ids.values())


def test_list_table_shows_one_row_per_key(cli: Cli, account: str) -> None:
    ids = _three_keys(cli, account)
    lines = cli.ok("keys", "list", "--account", account, "--sort", "name").out.splitlines()
    header = ["ID", "NAME", "KEY", "ENV", "ACCESS", "LIMITS", "STATUS", "CREATED", "LAST", "USED"]
    assert lines[0].split() == header
    assert len(lines) == 4
    alpha, gamma, beta = lines[1:]
    assert alpha.startswith(ids["alpha"]) and "Alpha deploy" in alpha
    assert " sk_live_…" in alpha and " live " in alpha and " secret " in alpha
    assert " active " in alpha and alpha.endswith("never")
    assert " revoked " in gamma and " pk_test_…" in beta and " publishable " in beta
    record = cli.record(ids["beta"])
    assert f"pk_test_…{record['last4']}" in beta and record["createdAt"][:10] in beta


def test_list_and_audit_read_every_page(cli: Cli, account: str) -> None:
    ids = seed(cli.database_url or "", account, 105)
    keys = cli.ok("keys", "list", "--account", account, "--json").json()
    assert sorted(k["id"] for k in keys) == sorted(ids)
    table = cli.ok("keys", "list", "--account", account).out.splitlines()
    assert len(table) == 106
    events = cli.ok("audit", "--account", account, "--limit", "150", "--json").json()
    assert sorted(e["keyId"] for e in events) == sorted(ids)
    assert len(cli.ok("audit", "--account", account, "--limit", "7", "--json").json()) == 7
    assert len(cli.ok("audit", "--account", account).out.splitlines()) == 51  # 50 by default


def test_show_prints_every_field(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "shown", extra=["--owner", "ana"])
    lines = cli.ok("keys", "show", record["id"]).out.splitlines()
    fields = dict(
        line.split(None, 1) for line in lines if not line.startswith(("last", "replaced"))
    )
    assert fields["id"] == record["id"] and fields["name"] == "shown"
    assert fields["key"] == f"sk_test_…{record['last4']}"
    assert (fields["account"], fields["owner"], fields["status"]) == (account, "ana", "active")
    assert fields["created"] == record["createdAt"][:19] + "Z"
    assert "last used    never" in lines
    assert cli.ok("keys", "show", record["id"], "--account", account, "--json").json() == record


def test_account_option_confines_commands_to_that_account(cli: Cli, account: str) -> None:
    _, record = cli.create(account)
    other = f"{account}-other"
    for command in (["show"], ["rename", "--", "x"], ["revoke"], ["delete"], ["roll"]):
        args = ["keys", command[0], record["id"], "--account", other, *command[1:]]
        assert "no API key with id" in cli(*args).error_line()
    assert cli.record(record["id"]) == record


def test_rename(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "old name")
    result = cli.ok("keys", "rename", record["id"], "  new name  ")
    assert result.out == f"{record['id']} is now named 'new name'.\n"
    assert cli.record(record["id"])["name"] == "new name"
    renamed = cli.ok("keys", "rename", record["id"], "n" * 100, "--json").json()
    assert renamed["name"] == "n" * 100 and renamed["id"] == record["id"]


def test_revoke_then_delete(cli: Cli, account: str) -> None:
    _, record = cli.create(account)
    line = cli("keys", "delete", record["id"]).error_line()
    assert "revoke it first" in line
    assert cli.record(record["id"])["revokedAt"] is None
    result = cli.ok("keys", "revoke", record["id"])
    assert result.out.startswith(f"{record['id']} (sk_test_…{record['last4']}) is revoked")
    revoked = cli.record(record["id"])
    assert _near(_time(revoked["revokedAt"]), datetime.now(UTC))
    assert cli.ok("keys", "revoke", record["id"], "--json").json() == revoked  # idempotent
    deleted = cli.ok("keys", "delete", record["id"], "--json").json()
    assert deleted["id"] == record["id"]
    assert "no API key with id" in cli("keys", "show", record["id"]).error_line()
    assert cli.ok("keys", "list", "--account", account, "--json").json() == []


@pytest.mark.parametrize(
    ("options", "grace"), [([], timedelta(hours=24)), (["--grace", "2h"], timedelta(hours=2))]
)
def test_roll_prints_the_new_value_and_retires_the_old_key(
    cli: Cli, account: str, options: list[str], grace: timedelta
) -> None:
    old_value, old = cli.create(account, "rolled", env="live", extra=["--owner", "ana"])
    result = cli.ok("keys", "roll", old["id"], *options)
    new_value = result.value()
    assert new_value != old_value
    assert parse(new_value).prefix == "sk_live_"
    assert "will not be shown again" in result.err and new_value not in result.err
    retired = cli.record(old["id"])
    assert _near(_time(retired["expiresAt"]), datetime.now(UTC) + grace)
    assert retired["revokedAt"] is None
    new = cli.record(retired["replacedBy"])
    assert (new["name"], new["owner"], new["account"]) == ("rolled", "ana", account)
    assert new["last4"] == parse(new_value).last4
    assert new["id"] in result.err
    assert "only an active key" in cli("keys", "roll", old["id"]).error_line()


def test_roll_json_is_the_new_record_with_its_value(cli: Cli, account: str) -> None:
    _, old = cli.create(account)
    new = cli.ok("keys", "roll", old["id"], "--grace", "0s", "--json").json()
    assert parse(new.pop("value")).last4 == new["last4"]
    assert cli.record(old["id"])["replacedBy"] == new["id"]
    assert cli.record(new["id"]) == new

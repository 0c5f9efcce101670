"""A key value is printed once, by the create or roll that made it, and stored nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import Cli, parse


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_value_in_the_database_file_the_audit_log_or_any_listing(
    cli: Cli, tmp_path: Path
) -> None:
    outputs: list[str] = []  # everything printed after the keys were minted

    def run(*args: str) -> None:
        result = cli.ok(*args)
        outputs.append(result.out + result.err)

    create = ["keys", "create", "--env", "live", "--access", "secret", "--account", "acme"]
    values = [cli.ok(*create, "--name", "plain").value()]
    values.append(cli.create("acme", "json")[0])
    ids = [k["id"] for k in cli.ok("keys", "list", "--account", "acme", "--json").json()]
    values.append(cli.ok("keys", "roll", ids[0]).value())
    values.append(cli.ok("keys", "roll", ids[1], "--json").json()["value"])
    for value in values:
        parse(value)
    assert len(set(values)) == 4

    run("keys", "list")
    run("keys", "list", "--json")
    for key_id in ids:
        run("keys", "show", key_id)
        run("keys", "show", key_id, "--json")
        run("keys", "rename", key_id, "renamed")
        run("keys", "revoke", key_id, "--json")
    run("audit")
    run("audit", "--json")
    run("migrate")

    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("k.db"))
    assert b"acme" in stored and ids[0].encode() in stored  # the scan does see the data
    for value in values:
        secret_part = value.removeprefix("sk_live_")
        assert secret_part.encode() not in stored
        assert not any(secret_part in text for text in outputs)


def test_create_and_roll_print_the_value_once(cli: Cli, account: str) -> None:
    create = ["keys", "create", "--name", "n", "--env", "test", "--access", "secret"]
    result = cli.ok(*create, "--account", account)
    value = result.value()
    assert (result.out + result.err).count(value) == 1
    key_id = cli.ok("keys", "list", "--account", account, "--json").json()[0]["id"]
    rolled = cli.ok("keys", "roll", key_id, "--json")
    new_value = rolled.json()["value"]
    assert (rolled.out + rolled.err).count(new_value) == 1
    assert new_value.removeprefix("sk_test_") not in rolled.err

"""Restricted keys from the command line, on SQLite and Postgres: `keys create` with permissions,
origins and networks, `keys restrict`, and how `show`, `list` and `audit` put them in words."""

from __future__ import annotations

from typing import Any

from ._support import Cli

SECRET = ["--permission", "orders:read", "--permission", "orders:write"]
NETWORK = ["--allowed-network", "10.0.0.0/8"]
ORIGIN = ["--allowed-origin", "https://shop.example.com"]


def _details(cli: Cli, key_id: str) -> dict[str, str]:
    lines = cli.ok("keys", "show", key_id).out.splitlines()
    return {line[:11].strip(): line[13:] for line in lines}


def _restrictions(view: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("permissions", "allowedOrigins", "allowedNetworks", "usableFrom")
    return tuple(view[k] for k in keys)


def test_create_a_restricted_secret_key(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "billing", extra=[*SECRET, *NETWORK, *NETWORK])
    expected = (["orders:read", "orders:write"], None, ["10.0.0.0/8"], "allowedNetworks")
    assert _restrictions(record) == expected
    assert _restrictions(cli.record(record["id"])) == expected
    details = _details(cli, record["id"])
    assert details["permissions"] == "orders:read, orders:write"
    assert details["usable from"] == "networks 10.0.0.0/8"
    listed = cli.ok("keys", "list", "--account", account, "--json").json()
    assert _restrictions(listed[0]) == expected


def test_create_a_publishable_key_for_one_origin(cli: Cli, account: str) -> None:
    origins = ["--allowed-origin", "HTTPS://Shop.Example.com:443", *ORIGIN]
    _, record = cli.create(account, "shop", access="publishable", extra=origins)
    expected = (None, ["https://shop.example.com"], None, "allowedOrigins")
    assert _restrictions(record) == expected
    details = _details(cli, record["id"])
    assert details["permissions"] == "the publishable routes (not restricted)"
    assert details["usable from"] == "origins https://shop.example.com"


def test_create_with_no_permissions_makes_a_key_that_may_do_nothing(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=["--no-permissions"])
    assert _restrictions(record) == ([], None, None, "anywhere")
    assert _details(cli, record["id"])["permissions"] == "none (this key may do nothing)"


def test_an_unrestricted_key_says_so(cli: Cli, account: str) -> None:
    _, secret = cli.create(account)
    _, public = cli.create(account, access="publishable")
    assert _restrictions(secret) == (None, None, None, "anywhere")
    details = _details(cli, secret["id"])
    assert details["permissions"] == "all of a secret key's routes (not restricted)"
    assert details["usable from"] == "anywhere (no list)"
    assert _details(cli, public["id"])["usable from"] == "anywhere (no list)"


def test_list_marks_the_restricted_keys(cli: Cli, account: str) -> None:
    ids = [
        cli.create(account, "a-plain")[1]["id"],
        cli.create(account, "b-secret", extra=[*SECRET, *NETWORK])[1]["id"],
        cli.create(account, "c-public", access="publishable", extra=ORIGIN)[1]["id"],
        cli.create(account, "d-nothing", extra=["--no-permissions"])[1]["id"],
    ]
    lines = cli.ok("keys", "list", "--account", account, "--sort", "name").out.splitlines()
    assert lines[0].split()[:7] == ["ID", "NAME", "KEY", "ENV", "ACCESS", "LIMITS", "STATUS"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == ids
    assert [row[5] for row in rows] == ["-", "perms,networks", "origins", "perms"]


def test_roll_keeps_the_restrictions(cli: Cli, account: str) -> None:
    _, old = cli.create(account, extra=[*SECRET, *NETWORK])
    new = cli.ok("keys", "roll", old["id"], "--json").json()
    assert _restrictions(new) == _restrictions(old)


def _restrict(cli: Cli, key_id: str, *flags: str) -> dict[str, Any]:
    return cli.ok("keys", "restrict", key_id, *flags, "--json").json()  # type: ignore[no-any-return]


def test_restrict_each_flag_of_a_secret_key(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=SECRET)
    key = record["id"]
    changed = _restrict(cli, key, "--permission", "products:*")
    assert _restrictions(changed) == (["products:*"], None, None, "anywhere")
    assert changed == cli.record(key)  # the detail view, with account and owner
    networked = _restrict(cli, key, *NETWORK)
    assert _restrictions(networked)[:3] == (["products:*"], None, ["10.0.0.0/8"])
    assert _restrict(cli, key, "--no-permissions")["permissions"] == []
    lifted = _restrict(cli, key, "--unrestricted-permissions")
    assert _restrictions(lifted) == (None, None, ["10.0.0.0/8"], "allowedNetworks")
    assert _restrictions(_restrict(cli, key, "--any-network")) == (None, None, None, "anywhere")


def test_restrict_each_flag_of_a_publishable_key(cli: Cli, account: str) -> None:
    _, record = cli.create(account, access="publishable", extra=["--permission", "cart:read"])
    key = record["id"]
    both = ["--allowed-origin", "https://a.example.com", "--allowed-origin", "https://*.b.example"]
    changed = _restrict(cli, key, *both)
    expected = (["cart:read"], ["https://a.example.com", "https://*.b.example"], None)
    assert _restrictions(changed) == (*expected, "allowedOrigins")
    replaced = _restrict(cli, key, *ORIGIN)
    assert replaced["allowedOrigins"] == ["https://shop.example.com"]
    assert _restrictions(_restrict(cli, key, "--any-origin")) == (
        ["cart:read"], None, None, "anywhere",
    )  # fmt: skip


def test_restrict_prints_the_details_and_audits_the_change(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=SECRET)
    result = cli.ok("keys", "restrict", record["id"], "--permission", "orders:read", *NETWORK)
    assert f"{record['id']} (sk_test_…{record['last4']}): restrictions changed." in result.err
    shown = dict(line.split(None, 1) for line in result.out.splitlines() if line[:1] != "l")
    assert shown["id"] == record["id"]
    assert "permissions  orders:read" in result.out.splitlines()
    assert "usable from  networks 10.0.0.0/8" in result.out.splitlines()
    events = cli.ok("audit", "--key", record["id"], "--json").json()
    assert [e["event"] for e in events] == ["api_key.permissions_changed", "api_key.created"]
    assert events[0]["actor"] == "cli"
    assert events[0]["data"] == {
        "from": {"permissions": ["orders:read", "orders:write"], "allowedNetworks": None},
        "to": {"permissions": ["orders:read"], "allowedNetworks": ["10.0.0.0/8"]},
    }


def test_a_restriction_already_in_place_changes_nothing(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=SECRET)
    result = cli.ok("keys", "restrict", record["id"], "--permission", "orders:write", *SECRET)
    assert "it had these restrictions already, nothing changed" in result.err
    assert len(cli.ok("audit", "--key", record["id"], "--json").json()) == 1


def test_restrict_within_an_account(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=SECRET)
    line = cli("keys", "restrict", record["id"], "--account", "elsewhere", *NETWORK).error_line()
    assert "no API key with id" in line
    changed = _restrict(cli, record["id"], "--account", account, *NETWORK)
    assert changed["allowedNetworks"] == ["10.0.0.0/8"]


def test_a_revoked_keys_restrictions_cannot_change(cli: Cli, account: str) -> None:
    _, record = cli.create(account, extra=SECRET)
    cli.ok("keys", "revoke", record["id"])
    for flags in (["--no-permissions"], NETWORK, ["--unrestricted-permissions"]):
        line = cli("keys", "restrict", record["id"], *flags).error_line()
        assert line == "keyguard: error: a revoked key's permissions cannot change"
    assert cli.record(record["id"])["permissions"] == ["orders:read", "orders:write"]


def test_audit_shows_a_change_in_words(cli: Cli, account: str) -> None:
    _, record = cli.create(account, access="publishable", extra=["--no-permissions"])
    _restrict(cli, record["id"], "--permission", "cart:read", *ORIGIN)
    _restrict(cli, record["id"], "--unrestricted-permissions", "--any-origin")
    rows = cli.ok("audit", "--key", record["id"]).out.splitlines()
    lifted, restricted = rows[1], rows[2]
    assert " api_key.permissions_changed " in lifted
    assert lifted.endswith(
        "permissions: cart:read -> not restricted;"
        " allowed origins: https://shop.example.com -> anywhere"
    )
    assert restricted.endswith(
        "permissions: none -> cart:read; allowed origins: anywhere -> https://shop.example.com"
    )


def test_no_key_value_after_creation(cli: Cli, account: str) -> None:
    create = ["keys", "create", "--name", "n", "--env", "live", "--account", account]
    plain = cli.ok(*create, "--access", "secret", *SECRET, *NETWORK)
    values = [plain.value()]
    assert (plain.out + plain.err).count(values[0]) == 1
    value, public = cli.create(account, access="publishable", extra=ORIGIN)
    values.append(value)
    secret_id = cli.ok("keys", "list", "--account", account, "--access", "secret", "--json")
    key_ids = [secret_id.json()[0]["id"], public["id"]]
    outputs = []
    for key_id in key_ids:
        for command in (
            ["keys", "restrict", key_id, "--no-permissions"],
            ["keys", "restrict", key_id, "--unrestricted-permissions", "--json"],
            ["keys", "restrict", key_id, "--any-network"],
            ["keys", "restrict", key_id, "--allowed-origin", "https://x.example"],
            ["keys", "show", key_id],
            ["keys", "show", key_id, "--json"],
        ):
            result = cli(*command)
            outputs.append(result.out + result.err)
    for command in (["keys", "list"], ["keys", "list", "--json"], ["audit"], ["audit", "--json"]):
        outputs.append(cli.ok(*command).out)
    for value in values:
        secret_part = value.split("_", 2)[2]
        assert not any(secret_part in text for text in outputs)

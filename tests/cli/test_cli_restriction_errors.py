"""Restriction flags given wrongly: one line naming the flag and the rule (a value is never
repeated, it may be a key pasted into the wrong place), or argparse's usage error for flags
that contradict each other; and the refusals the audit log shows in words."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from keyguard import store_from_url
from keyguard.cli import main
from keyguard.core import AuditEventType
from keyguard.services import RefusalLog

from ._support import Cli

GRAMMAR = "must be resource:action in lowercase (e.g. orders:write), or resource:*"
CIDR = "must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32, with no host bits set"
ORIGIN = "must be an origin such as https://shop.example.com or https://*.example.com"
BAD = [
    (["--permission", "Orders:Read"], f"--permission: {GRAMMAR}"),
    (["--permission", "orders:read", "--permission", "orders"], f"--permission #2: {GRAMMAR}"),
    (["--permission", "a:b"] * 65, "--permission: must hold at most 64 permissions"),
    (["--allowed-network", "10.0.0.1/8"], f"--allowed-network: {CIDR}"),
    (["--allowed-network", "10.0.0.0/8", "--allowed-network", "nope"], "--allowed-network #2: "),
    (["--allowed-origin", "https://shop.example.com"], "--allowed-origin: is for publishable keys"),
]
BAD_PUBLISHABLE = [
    (["--allowed-origin", "https://shop.example.com/cart"], f"--allowed-origin: {ORIGIN}"),
    (["--allowed-origin", "https://*.com"], "--allowed-origin: a wildcard must stand below"),
    (["--allowed-network", "10.0.0.0/8"], "--allowed-network: is for secret keys only"),
]


def _all(cases: list[tuple[list[str], str]], access: str) -> list[Any]:
    return [pytest.param(access, flags, said, id=said[:40]) for flags, said in cases]


CASES = _all(BAD, "secret") + _all(BAD_PUBLISHABLE, "publishable")


@pytest.mark.parametrize(("access", "flags", "said"), CASES)
def test_bad_values_on_create(
    cli: Cli, account: str, access: str, flags: list[str], said: str
) -> None:
    create = ["keys", "create", "--name", "x", "--env", "test", "--account", account]
    line = cli(*create, "--access", access, *flags).error_line()
    assert line.startswith(f"keyguard: error: {said}")
    assert cli.ok("keys", "list", "--account", account, "--json").json() == []


@pytest.mark.parametrize(("access", "flags", "said"), CASES)
def test_bad_values_on_restrict(
    cli: Cli, account: str, access: str, flags: list[str], said: str
) -> None:
    _, record = cli.create(account, access=access, extra=["--permission", "kept:read"])
    line = cli("keys", "restrict", record["id"], *flags).error_line()
    assert line.startswith(f"keyguard: error: {said}")
    assert cli.record(record["id"]) == record
    assert len(cli.ok("audit", "--key", record["id"], "--json").json()) == 1


def test_a_key_pasted_into_a_flag_is_not_repeated(cli: Cli, account: str) -> None:
    value, record = cli.create(account)
    for flag in ("--permission", "--allowed-network"):
        result = cli("keys", "restrict", record["id"], flag, value)
        assert value not in result.error_line()
        result = cli(
            "keys", "create", "--name", "y", "--env", "test", "--access", "secret", flag, value
        )
        assert value not in result.error_line()


def test_restrict_an_unknown_or_malformed_id(cli: Cli) -> None:
    unknown = "key_01JD3Z0000000000000000000X"
    line = cli("keys", "restrict", unknown, "--no-permissions").error_line()
    assert line == f"keyguard: error: no API key with id '{unknown}'"
    line = cli("keys", "restrict", "nope", "--no-permissions").error_line()
    assert line == "keyguard: error: that is not a key id: key ids look like key_01JD3Z..."


KEY = "key_01JD3Z0000000000000000000X"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["keys", "restrict", KEY], "name a restriction to change: --permission, --no-perm"),
        (["keys", "restrict", KEY, "--json"], "name a restriction to change"),
        (["keys", "restrict", KEY, "--permission", "a:b", "--no-permissions"], "not allowed"),
        (["keys", "restrict", KEY, "--no-permissions", "--unrestricted-permissions"], "not al"),
        (["keys", "restrict", KEY, "--permission", "a:b", "--unrestricted-permissions"], "not"),
        (["keys", "restrict", KEY, "--allowed-origin", "https://a.example", "--any-origin"], "n"),
        (["keys", "restrict", KEY, "--allowed-network", "10.0.0.0/8", "--any-network"], "not"),
        (["keys", "restrict", KEY, "--permission"], "expected one argument"),
        (["keys", "create", "--name", "x", "--env", "test", "--access", "secret",
          "--permission", "a:b", "--no-permissions"], "not allowed with argument --permission"),
        (["keys", "create", "--name", "x", "--env", "test", "--access", "secret",
          "--any-network"], "unrecognized arguments: --any-network"),
    ],
)  # fmt: skip
def test_flags_that_contradict_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "usage: keyguard" in err and said in err
    assert "Traceback" not in err


def _refused(database_url: str, key_id: str, event: AuditEventType, data: dict[str, Any]) -> None:
    """A refusal as the middleware logs it, through the real refusal log and store."""

    async def write() -> None:
        store = store_from_url(database_url)
        await store.open()
        try:
            record = await store.get_key(key_id, None)
            assert record is not None
            assert await RefusalLog(store).write(record, event, data, None)
        finally:
            await store.close()

    asyncio.run(write())


def test_audit_shows_refusals_in_words(cli: Cli, account: str) -> None:
    _, public = cli.create(
        account, access="publishable", extra=["--allowed-origin", "https://a.example"]
    )
    _, secret = cli.create(account, extra=["--allowed-network", "10.0.0.0/8"])
    url = cli.database_url or ""
    _refused(url, public["id"], AuditEventType.REFUSED_ORIGIN, {"origin": "https://x.test\x1b[2J"})
    _refused(url, secret["id"], AuditEventType.REFUSED_NETWORK, {"client": "203.0.113.9"})
    _refused(url, secret["id"], AuditEventType.REFUSED_BROWSER, {"signal": "sec-fetch-mode: cors"})
    rows = cli.ok("audit", "--account", account).out
    assert "\x1b" not in rows
    lines = rows.splitlines()
    assert " api_key.refused_browser " in lines[1] and lines[1].endswith(
        "refused: a secret key sent from a browser (it sent sec-fetch-mode: cors)"
    )
    assert " keyguard " in lines[1]  # the actor: the middleware refused
    assert lines[2].endswith("refused: used from 203.0.113.9, not an allowed network")
    assert lines[3].endswith("refused: used from https://x.test\\x1b[2J, not an allowed origin")
    events = cli.ok("audit", "--account", account, "--event", "api_key.refused_origin", "--json")
    assert [e["data"] for e in events.json()] == [{"origin": "https://x.test\x1b[2J"}]

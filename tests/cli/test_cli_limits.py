"""Usage limits from the command line, on SQLite and Postgres: `keys create` with rate limits and
a quota, `keys limit`, how `show`, `list` and `audit` put them in words, and bad flags (a usage
error naming the flag, never the value)."""

from __future__ import annotations

import pytest

from ._support import Cli

QUOTA = ["--quota", "1000", "--refill", "500/1d"]


def _details(cli: Cli, key_id: str) -> dict[str, str]:
    lines = cli.ok("keys", "show", key_id).out.splitlines()
    return {line[:11].strip(): line[13:] for line in lines}


def _usage(view: dict[str, object]) -> tuple[object, ...]:
    return tuple(view[k] for k in ("rateLimits", "effectiveRateLimits"))


def test_create_with_rate_limits_and_a_quota(cli: Cli, account: str) -> None:
    rates = ["--rate-limit", "100/s", "--rate-limit", "5000/h"]
    _, record = cli.create(account, "billing", extra=[*rates, *QUOTA])
    limits = [{"limit": "100/s", "name": "100/s"}, {"limit": "5000/h", "name": "5000/h"}]
    assert _usage(record) == _usage(cli.record(record["id"])) == (limits, limits)
    quota = cli.record(record["id"])["quota"]
    assert (quota["remaining"], quota["refillAmount"], quota["refillInterval"]) == (1000, 500, "1d")
    details = _details(cli, record["id"])
    assert details["rate limits"] == "100/s, 5000/h"
    assert details["quota"].startswith("1000 left, refilled to 500 every 1d (next ")
    rows = cli.ok("keys", "list", "--account", account).out.splitlines()
    assert "rate,quota" in rows[1]


def test_a_key_without_limits_shows_the_default(
    cli: Cli, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYGUARD_DEFAULT_RATE_LIMITS", "sk=10/s;pk_test=100/s,5000/h")
    _, plain = cli.create(account, "plain")
    assert _usage(plain) == (None, [{"limit": "10/s", "name": "10/s"}])
    assert _details(cli, plain["id"])["rate limits"] == "default: 10/s"
    assert _details(cli, plain["id"])["quota"] == "none"
    _, none = cli.create(account, "none", extra=["--no-rate-limits"])
    assert _usage(none) == ([], [])
    assert _details(cli, none["id"])["rate limits"] == "none"
    _, pk = cli.create(account, "pk", access="publishable")
    assert _details(cli, pk["id"])["rate limits"] == "default: 100/s, 5000/h"


def test_limit_sets_resets_and_lifts_audited(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "billing")
    key = record["id"]
    cli.ok("keys", "limit", key, "--rate-limit", "5/s", *QUOTA)
    assert _details(cli, key)["rate limits"] == "5/s"
    reset = cli.ok("keys", "limit", key, *QUOTA)
    assert "usage limits changed" in reset.err
    assert (
        cli.ok("keys", "limit", key, "--no-quota", "--default-rate-limits", "--json").json()[
            "quota"
        ]
        is None
    )
    assert _details(cli, key)["rate limits"] == "default: none"
    rows = cli.ok("audit", "--key", key).out.splitlines()
    limits = [row for row in rows if "api_key.limits_changed" in row]
    assert len(limits) == 3
    assert "rate limits: 5/s -> the default; quota: 1000 left" in limits[0]
    assert "quota: reset to 1000 left, refilled to 500 every 1d" in limits[1]
    assert "rate limits: the default -> 5/s" in limits[2]


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--rate-limit", "sk_live_notakey"], "argument --rate-limit: must be count/window"),
        (["--rate-limit", "5/2d"], "argument --rate-limit: the window must be whole seconds"),
        (["--rate-limit", "1/m", "--rate-limit", "1/60s"], "--rate-limit #2: repeats the name"),
        (["--rate-limit", "1/s"] * 5, "--rate-limit: must hold at most 4 limits"),
        (["--quota", "-1"], "argument --quota: must be a whole number from 0"),
        (["--quota", "5", "--refill", "5/367d"], "argument --refill: must be AMOUNT/INTERVAL"),
        (["--refill", "5/1d"], "--refill goes with --quota N"),
        (["--rate-limit", "1/s", "--no-rate-limits"], "not allowed with argument"),
    ],
)
def test_bad_limit_flags_are_usage_errors(
    cli: Cli, account: str, flags: list[str], said: str
) -> None:
    _, record = cli.create(account, "kept")
    create = ["keys", "create", "--name", "x", "--env", "test", "--access", "secret"]
    for args in ([*create, "--account", account], ["keys", "limit", record["id"]]):
        result = cli(*args, *flags)
        assert result.code == 2, result.err
        assert said in result.err.splitlines()[-1]
        assert "sk_live_notakey" not in result.err and "367d" not in result.err
    assert len(cli.ok("keys", "list", "--account", account, "--json").json()) == 1


def test_limit_needs_a_flag(cli: Cli, account: str) -> None:
    _, record = cli.create(account, "kept")
    result = cli("keys", "limit", record["id"])
    assert result.code == 2 and "name a limit to change" in result.err

"""`keyguard doctor`: one line per check, exit 1 when one fails; and the warning any command
gives when the store's keys were made under a pepper these settings lack (a CLI run without
KEYGUARD_PEPPER against a server's store minted keys that were refused forever, silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._support import Cli


@pytest.fixture
def local(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """A SQLite store of this test's own: doctor counts every key in the store."""
    return Cli(capsys, None)


def test_all_well_is_one_ok_line_per_check_with_the_stores_absolute_path(
    local: Cli, tmp_path: Path
) -> None:
    local.ok("migrate")
    local.create("acme")
    done = local.ok("doctor")
    lines = done.out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "settings"], ["ok", "store"], ["ok", "keys"], ["ok", "redis"],
    ]  # fmt: skip
    assert f"sqlite:///{tmp_path.resolve()}/keyguard.db" in lines[1]
    assert "1 valid" in lines[2]


def test_keys_under_another_pepper_fail_the_check_and_warn_every_command(
    local: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    local.ok("migrate")
    local.create("acme")
    monkeypatch.delenv("KEYGUARD_PEPPER")  # the mistake: a shell without the server's pepper
    result = local("doctor")
    assert result.code == 1
    failed = [line for line in result.out.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1
    assert failed[0].startswith("FAIL  keys")
    assert "1 valid keys are stored under a pepper these settings do not have" in failed[0]
    assert result.err.strip() == "keyguard: error: 1 check(s) failed: keys"
    listed = local("keys", "list")
    assert listed.code == 0
    assert "keyguard: warning: 1 valid keys are stored under a pepper" in listed.err


def test_a_store_that_is_not_there_fails_and_stops_the_checks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = Cli(capsys, "postgresql://postgres@127.0.0.1:5432/keyguard_no_such_database")
    result = cli("doctor")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("ok    settings")
    assert lines[1].startswith("FAIL  store")
    assert 'database "keyguard_no_such_database" does not exist' in lines[1]
    assert len(lines) == 2


def test_unreachable_redis_fails_its_check(
    local: Cli, monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    local.ok("migrate")
    monkeypatch.setenv("KEYGUARD_REDIS_URL", f"redis://127.0.0.1:{unused_tcp_port}/0")
    result = local("doctor")
    assert result.code == 1
    assert [line[:11] for line in result.out.splitlines()][-1] == "FAIL  redis"

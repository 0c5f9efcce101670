"""Where the CLI's settings come from: options, then the environment, then defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from keyguard import KeyHasher, Settings
from keyguard.cli._app import settings_from_args

from ._support import PEPPER, Cli, find_by_value

CREATE = ["keys", "create", "--name", "n", "--env", "test", "--access", "secret"]


def test_the_default_database_is_keyguard_db_in_the_working_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    value = Cli(capsys, None).ok(*CREATE).value()
    assert find_by_value(f"sqlite:///{tmp_path}/keyguard.db", value, PEPPER) is not None


def test_an_empty_variable_counts_as_unset(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", "")
    Cli(capsys, None).ok(*CREATE)
    assert (tmp_path / "keyguard.db").exists()


def test_the_option_beats_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/from-env.db")
    from_env = Cli(capsys, None).ok(*CREATE).value()
    from_option = Cli(capsys, f"sqlite:///{tmp_path}/from-option.db").ok(*CREATE).value()
    assert find_by_value(f"sqlite:///{tmp_path}/from-env.db", from_env, PEPPER) is not None
    assert find_by_value(f"sqlite:///{tmp_path}/from-option.db", from_option, PEPPER) is not None
    assert find_by_value(f"sqlite:///{tmp_path}/from-env.db", from_option, PEPPER) is None
    assert not (tmp_path / "keyguard.db").exists()


def test_digests_use_the_pepper_from_the_environment(cli: Cli, account: str) -> None:
    value, record = cli.create(account)
    assert cli.database_url is not None
    found = find_by_value(cli.database_url, value, PEPPER)
    assert found is not None and found.id == record["id"]
    assert find_by_value(cli.database_url, value, "another pepper") is None


def test_no_pepper_means_plain_digests(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.delenv("KEYGUARD_PEPPER")
    value = Cli(capsys, sqlite_url).ok(*CREATE).value()
    assert find_by_value(sqlite_url, value, "") is not None
    assert find_by_value(sqlite_url, value, PEPPER) is None


def _settings(*argv: str, **environ: str) -> Settings:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    return settings_from_args(parser.parse_args(argv), environ)


def test_redis_url_is_kept() -> None:
    assert _settings().redis_url is None
    assert _settings(KEYGUARD_REDIS_URL="redis://env:6379/0").redis_url == "redis://env:6379/0"
    chosen = _settings("--redis-url", "redis://opt/1", KEYGUARD_REDIS_URL="redis://env:6379/0")
    assert chosen.redis_url == "redis://opt/1"


def test_settings_repr_hides_passwords_and_the_pepper() -> None:
    settings = _settings(
        "--database-url", "postgresql://u:dbsecret@h/db", "--redis-url", "redis://:rsecret@h/0",
        KEYGUARD_PEPPER="pepper-secret",
    )  # fmt: skip
    assert KeyHasher(settings.pepper).peppered
    text = repr(settings)
    assert "u:***@h" in text
    assert not any(s in text for s in ("dbsecret", "rsecret", "pepper-secret"))

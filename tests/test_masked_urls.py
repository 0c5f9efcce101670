"""Every URL keyguard prints is masked: user-info passwords and password-like query parameters,
in `Settings`' repr and in the CLI's lines (issue 11, finding 3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard import Settings
from keyguard.adapters import mask_url

SECRET = "s3cr3t-Pw"
URLS = [
    f"postgresql://user:{SECRET}@127.0.0.1:1/db",
    f"postgresql://user@127.0.0.1:1/db?password={SECRET}",
    f"postgresql://user@127.0.0.1:1/db?sslmode=require&sslpassword={SECRET}",
    f"postgresql://u:{SECRET}@h/db?password={SECRET}&application_name=x",
    f"redis://:{SECRET}@127.0.0.1:1/0",
    f"redis://default:{SECRET}@127.0.0.1:1/0?password={SECRET}",
    f"postgresql://user:{SECRET}@[::1:1/db",  # does not parse: masked whole
    f"redis+cluster://app:{SECRET}@10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379/",
    f"rediss+cluster://{SECRET}@cache-1:6380,cache-2:6380",
    # A password in the query holding what ends a query or begins a user-info's end, unencoded.
    f"redis+sentinel://h1:26379/mymaster?sentinel_password={SECRET}#{SECRET}",
    f"redis+sentinel://h1:26379/mymaster?sentinel_password={SECRET}@{SECRET}",
    f"redis://h:6379/0?password={SECRET}#{SECRET}",
    f"redis+cluster://h1:7000?password={SECRET}@?{SECRET}",
    f"postgresql://u:{SECRET}@h/db?password={SECRET}@{SECRET}&x=1",
    f"postgresql://u:{SECRET}?{SECRET}@h/db?password={SECRET}",
]


@pytest.mark.parametrize("url", URLS)
def test_mask_url_hides_every_password(url: str) -> None:
    masked = mask_url(url)
    assert SECRET not in masked
    assert "***" in masked


def test_mask_url_keeps_the_rest() -> None:
    assert (
        mask_url("postgresql://u@h:5/db?sslmode=require") == "postgresql://u@h:5/db?sslmode=require"
    )
    assert mask_url(f"postgresql://u:{SECRET}@h:5/db?application_name=x&password={SECRET}") == (
        "postgresql://u:***@h:5/db?application_name=x&password=***"
    )


@pytest.mark.parametrize("url", URLS[:4])
def test_settings_and_the_cli_never_show_a_password(url: str, tmp_path: Path) -> None:
    redis_url = f"redis://:{SECRET}@127.0.0.1:1/0?password={SECRET}"
    assert SECRET not in repr(Settings(database_url=url, redis_url=redis_url))
    done = subprocess.run(
        [sys.executable, "-m", "keyguard", "--database-url", url, "keys", "list"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr
    assert done.stderr.strip()


@given(st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=6, max_size=30))
def test_no_password_spills_out_whatever_it_holds(password: str) -> None:
    """Unencoded `/`, `?`, `#` or `@` in a password used to end the user-info early."""
    for url in (
        f"postgresql://u:{password}@h:5432/db",
        f"redis://:{password}@h/0",
        f"redis+cluster://u:{password}@h1:7000,h2:7001/",
        f"redis+sentinel://h1:26379/mymaster?sentinel_password={password}",
        f"redis://h:6379/0?password={password}&db=0",
        f"postgresql://u@h/db?sslmode=require&password={password}",
    ):
        assert password not in mask_url(url)


def test_a_url_without_secrets_is_shown_as_written() -> None:
    for url in ("sqlite:////tmp/keys.db", "sqlite:///keys.db", "redis://127.0.0.1:6379/0"):
        assert mask_url(url) == url


def test_a_redis_user_info_without_a_colon_is_taken_for_a_password() -> None:
    assert mask_url("redis://Sup3rSecret@cache:6379/0") == "redis://***@cache:6379/0"
    assert mask_url("rediss://Sup3rSecret@cache:6379/0") == "rediss://***@cache:6379/0"
    assert mask_url("redis+cluster://Sup3rSecret@a:1,b:2/") == "redis+cluster://***@a:1,b:2/"


def test_a_cluster_url_keeps_its_nodes_and_a_bad_one_is_refused_masked() -> None:
    from keyguard.adapters._redis import redis_client

    url = f"rediss+cluster://app:{SECRET}@a:7000,b:7001/"
    assert mask_url(url) == "rediss+cluster://app:***@a:7000,b:7001/"
    for bad in (f"redis+cluster://app:{SECRET}@a:70x0/", f"redis+cluster://app:{SECRET}@a:1/3"):
        with pytest.raises(ValueError, match="Redis Cluster URL") as caught:
            redis_client(bad, timeout=0.1, max_connections=1)
        assert SECRET not in str(caught.value)


def test_a_libpq_connection_string_is_not_repeated() -> None:
    from keyguard.adapters import store_from_url

    with pytest.raises(ValueError, match="unsupported database URL") as caught:
        store_from_url("host=db user=app password=s3cret dbname=app")
    assert "s3cret" not in str(caught.value)

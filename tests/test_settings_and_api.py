"""Settings from the environment, masked reprs, and the pinned public API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from keyguard import Settings
from keyguard.adapters import RedisKeyCache


def test_settings_come_from_the_environment_and_arguments_win() -> None:
    env = {
        "KEYGUARD_DATABASE_URL": "postgresql://app:pw@db/keys",
        "KEYGUARD_REDIS_URL": "redis://:redispw@cache:6379/0",
        "KEYGUARD_PEPPER": "pepper-value",
        "KEYGUARD_LOCAL_CACHE_TTL": "0.5",
        "KEYGUARD_LOCAL_CACHE_SIZE": "99",
        "KEYGUARD_ENVIRONMENTS": "test, live, staging",
    }
    s = Settings.from_env(env, local_cache_size=7)
    assert s.database_url == "postgresql://app:pw@db/keys"
    assert (s.local_cache_ttl, s.local_cache_size) == (0.5, 7)
    assert s.environments == ("test", "live", "staging")
    assert Settings.from_env({}).database_url == "sqlite:///keyguard.db"


def test_settings_repr_masks_the_pepper_and_passwords() -> None:
    s = Settings(
        database_url="postgresql://app:dbsecret@db/keys",
        redis_url="redis://:redissecret@cache:6379/0",
        pepper="pepper-value",
    )
    shown = repr(s)
    for secret in ("dbsecret", "redissecret", "pepper-value"):
        assert secret not in shown
    assert "pepper='***'" in shown
    cache = RedisKeyCache.from_url("redis://:redissecret@cache:6379/0", mac_key=b"k" * 32)
    assert "redissecret" not in repr(cache)


def test_a_bad_number_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ValueError, match="KEYGUARD_LOCAL_CACHE_TTL"):
        Settings.from_env({"KEYGUARD_LOCAL_CACHE_TTL": "soon"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KEYGUARD_REDIS_TIMEOUT": "-1"}, "KEYGUARD_REDIS_TIMEOUT must be a number of seconds"),
        ({"KEYGUARD_MAX_STALENESS": "inf"}, "KEYGUARD_MAX_STALENESS must be a number of seconds"),
        ({"KEYGUARD_STATEMENT_CACHE_SIZE": "-1"}, "KEYGUARD_STATEMENT_CACHE_SIZE must be a whole"),
        ({"KEYGUARD_LOCAL_CACHE_SIZE": "²"}, "KEYGUARD_LOCAL_CACHE_SIZE must be a whole number"),
        ({"KEYGUARD_LAST_USED_INTERVAL": "0"}, "KEYGUARD_LAST_USED_INTERVAL must be more than 0"),
        ({"KEYGUARD_CHANGE_NOTIFICATIONS": "flase"}, "KEYGUARD_CHANGE_NOTIFICATIONS must be true"),
        ({"KEYGUARD_ENVIRONMENTS": ","}, "KEYGUARD_ENVIRONMENTS must name at least one"),
        ({"KEYGUARD_ENVIRONMENTS": "test,QA"}, "KEYGUARD_ENVIRONMENTS: environment names are"),
        (
            {"KEYGUARD_REDIS_CACHE_TTL": "3600"},
            "change_log_retention must exceed KEYGUARD_REDIS_CACHE_TTL by 60 s",
        ),
    ],
)
def test_every_bad_setting_in_the_environment_names_its_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        Settings.from_env(environ)


def test_switches_read_the_usual_words_and_arguments_can_mend_the_environment() -> None:
    for word, value in [("1", True), ("Yes", True), (" on ", True), ("0", False), ("OFF", False)]:
        assert (
            Settings.from_env({"KEYGUARD_CHANGE_NOTIFICATIONS": word}).change_notifications is value
        )
    # Checked together: an argument may make a value from the environment valid.
    mended = Settings.from_env({"KEYGUARD_LOCAL_CACHE_TTL": "2"}, max_staleness=4.0)
    assert (mended.local_cache_ttl, mended.max_staleness) == (2.0, 4.0)
    with pytest.raises(ValueError, match=r"^local_cache_ttl must be between 0 and max_staleness"):
        Settings.from_env({}, local_cache_ttl=2.0)  # an argument keeps its own name


def test_the_statement_cache_setting_reaches_the_postgres_pool() -> None:
    from keyguard import KeyGuard, PostgresKeyStore

    guard = KeyGuard(Settings(database_url="postgresql://u@h/db", statement_cache_size=0))
    assert isinstance(guard.store, PostgresKeyStore)
    assert guard.store._pool_options["statement_cache_size"] == 0
    assert KeyGuard(Settings(database_url="sqlite://")).store is not None  # ignored there


def test_pool_sizes_reach_the_postgres_pool_and_the_redis_gate() -> None:
    from redis.asyncio import Redis

    from keyguard import KeyGuard, PostgresKeyStore, RedisKeyCache

    settings = Settings.from_env(
        {
            "KEYGUARD_DATABASE_URL": "postgresql://u@h/db",
            "KEYGUARD_REDIS_URL": "redis://127.0.0.1:1/0",
            "KEYGUARD_STORE_POOL_SIZE": "3",
            "KEYGUARD_REDIS_POOL_SIZE": "7",
        }
    )
    guard = KeyGuard(settings)
    assert isinstance(guard.store, PostgresKeyStore)
    assert (guard.store._pool_options["min_size"], guard.store._pool_options["max_size"]) == (1, 3)
    cache = guard.shared_cache
    assert isinstance(cache, RedisKeyCache)
    assert cache.gate._value == 7
    assert isinstance(cache.client, Redis)
    assert cache.client.connection_pool.max_connections == 2 * 7 + 1
    assert KeyGuard(Settings(database_url="sqlite://", store_pool_size=1)).store is not None


@pytest.mark.parametrize("field", ["store_pool_size", "redis_pool_size"])
@pytest.mark.parametrize("value", [0, 1001])
def test_pool_sizes_out_of_range_are_refused_by_name(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"^{field} must be from 1 to 1000$"):
        Settings(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"^KEYGUARD_{field.upper()} must be from 1 to 1000$"):
        Settings.from_env({f"KEYGUARD_{field.upper()}": str(value)})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_wait": float("nan")}, "start_wait"),
        ({"max_staleness": float("inf")}, "max_staleness"),
        ({"store_timeout": 1e308}, "store_timeout"),
        ({"redis_timeout": 60.0}, "redis_timeout"),
        ({"redis_cache_ttl": 0.0}, "redis_cache_ttl"),
        ({"redis_negative_ttl": -1.0}, "redis_negative_ttl"),
        ({"local_cache_size": 10**20}, "local_cache_size"),
        ({"pepper": "  "}, "pepper"),
    ],
)
def test_settings_out_of_sense_are_refused_by_name(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} "):
        Settings(**overrides)


def test_an_environment_value_out_of_sense_names_its_variable() -> None:
    with pytest.raises(ValueError, match=r"^KEYGUARD_STORE_TIMEOUT must be"):
        Settings.from_env({"KEYGUARD_STORE_TIMEOUT": "1e300"})


def test_a_redis_url_that_does_not_parse_names_no_part_of_its_password() -> None:
    with pytest.raises(ValueError, match="is not a URL redis-py can read") as caught:
        RedisKeyCache.from_url("redis://:Sup3r/Secret@cache:6379/0", mac_key=b"k" * 32)
    assert "Sup3r" not in str(caught.value)
    assert "Secret" not in str(caught.value)

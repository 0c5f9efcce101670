"""Settings from the environment, masked reprs, and the pinned public API."""

from __future__ import annotations

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


def test_the_statement_cache_setting_reaches_the_postgres_pool() -> None:
    from keyguard import KeyGuard, PostgresKeyStore

    guard = KeyGuard(Settings(database_url="postgresql://u@h/db", statement_cache_size=0))
    assert isinstance(guard.store, PostgresKeyStore)
    assert guard.store._pool_options["statement_cache_size"] == 0
    assert KeyGuard(Settings(database_url="sqlite://")).store is not None  # ignored there

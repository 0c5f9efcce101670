"""Changing the pepper without breaking old keys: `previous_peppers`, on both real stores."""

from __future__ import annotations

from keyguard import KeyGuard, KeyHasher, KeyManager, KeyRecord, Settings
from keyguard.ports import KeyStore
from keyguard.services import KeyVerifier, LocalCache, Verdict


async def _mint(store: KeyStore, pepper: str | None) -> tuple[str, KeyRecord]:
    created = await KeyManager(store, hasher=KeyHasher(pepper)).create(
        account="rotation", name="old", environment="live", access="secret"
    )
    return created.value, created.record


def _verifier(store: KeyStore, pepper: str | None, *previous: str | None) -> KeyVerifier:
    return KeyVerifier(
        store,
        hasher=KeyHasher(pepper),
        previous_hashers=[KeyHasher(p) for p in previous],
        local_cache=LocalCache(ttl=0),
    )


async def test_a_new_pepper_alone_refuses_keys_minted_under_the_old_one(store: KeyStore) -> None:
    value, _ = await _mint(store, "old-pepper")
    assert await _verifier(store, "new-pepper").verify(value) is Verdict.INVALID


async def test_keys_under_a_previous_pepper_work_and_move_to_the_new_one(store: KeyStore) -> None:
    value, record = await _mint(store, "old-pepper")
    verifier = _verifier(store, "new-pepper", "older-still", "old-pepper")
    assert await verifier.verify(value) == record
    assert verifier.store_lookups == 3  # current, older-still, old-pepper
    # Moved: the next lookup finds it at once, and the old digest no longer does.
    assert await verifier.verify(value) == record
    assert verifier.store_lookups == 4
    assert await store.find_by_digest(KeyHasher("new-pepper").digest(value)) == record
    assert await store.find_by_digest(KeyHasher("old-pepper").digest(value)) is None
    assert await _verifier(store, "new-pepper").verify(value) == record  # no previous needed now


async def test_adding_a_pepper_to_an_unpeppered_deployment(store: KeyStore) -> None:
    value, record = await _mint(store, None)
    assert await _verifier(store, "first-pepper", None).verify(value) == record
    assert await store.find_by_digest(KeyHasher().digest(value)) is None


async def test_unknown_keys_stay_unknown_under_every_pepper(store: KeyStore) -> None:
    value, _ = await _mint(store, "old-pepper")
    key_format = KeyManager(store).key_format
    unknown = key_format.compose(key_format.parse(value).access, "live", "A" * 32)
    assert await _verifier(store, "new", "old-pepper").verify(unknown) is Verdict.INVALID


async def test_previous_peppers_come_from_the_environment_and_stay_masked(tmp_path: object) -> None:
    settings = Settings.from_env(
        {
            "KEYGUARD_DATABASE_URL": f"sqlite:///{tmp_path}/k.db",
            "KEYGUARD_PEPPER": "new-secret-pepper",
            "KEYGUARD_PREVIOUS_PEPPERS": "old-secret-pepper,plain",
        }
    )
    assert settings.previous_peppers == ("old-secret-pepper", None)
    assert "secret-pepper" not in repr(settings)
    async with KeyGuard(Settings(database_url=settings.database_url, pepper=None)) as old_guard:
        created = await old_guard.manager.create(
            account="a", name="n", environment="test", access="secret"
        )
    async with KeyGuard(settings) as guard:
        assert await guard.verifier.verify(created.value) == created.record

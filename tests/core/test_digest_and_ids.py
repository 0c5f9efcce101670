from __future__ import annotations

from blake3 import blake3

from keyguard.core import DIGEST_CONTEXT, KeyHasher, new_id


def test_plain_digest_is_blake3_of_the_value() -> None:
    assert KeyHasher().digest("sk_test_x") == blake3(b"sk_test_x").digest()
    assert KeyHasher().version == "blake3"


def test_peppered_digest_uses_a_key_derived_from_the_pepper() -> None:
    hasher = KeyHasher("pepper")
    derived = blake3(b"pepper", derive_key_context=DIGEST_CONTEXT).digest()
    assert hasher.digest("sk_test_x") == blake3(b"sk_test_x", key=derived).digest()
    assert hasher.digest("sk_test_x") != KeyHasher("other").digest("sk_test_x")
    assert hasher.digest("sk_test_x") != KeyHasher().digest("sk_test_x")
    assert len(hasher.digest("sk_test_x")) == 32


def test_version_tells_peppers_apart_without_revealing_them() -> None:
    a, b = KeyHasher("pepper-a"), KeyHasher("pepper-b")
    assert a.version.startswith("blake3-keyed:")
    assert a.version != b.version
    assert a.version == KeyHasher(b"pepper-a").version
    assert "pepper" not in repr(a)
    assert "pepper-a" not in a.version


def test_ids_are_prefixed_unique_and_sorted_by_creation() -> None:
    ids = [new_id("key_") for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(i.startswith("key_") and len(i) == 30 for i in ids)

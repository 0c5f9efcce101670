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


def _reference_ulid(ms: int, random: int) -> str:
    n, chars = (ms << 80) | random, []
    for _ in range(26):
        n, r = divmod(n, 32)
        chars.append("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[r])
    return "".join(reversed(chars))


def test_ids_are_standard_ulids_that_carry_their_time() -> None:
    import time

    from keyguard.core import id_time_ms
    from keyguard.core._ids import _encode

    before = time.time_ns() // 1_000_000
    made = new_id("req_")
    after = time.time_ns() // 1_000_000
    assert before <= id_time_ms(made) <= after
    for ms, random in ((0, 0), (2**48 - 1, 2**80 - 1), (1_763_800_000_000, 123456789)):
        assert _encode(ms, 5) + _encode(random, 8) == _reference_ulid(ms, random)


def test_ids_stay_ordered_across_the_low_counter_carrying() -> None:
    from keyguard.core import _ids

    made: list[str] = []
    for _ in range(3):
        _ids._low = _ids._LOW_MASK - 1  # force carries into the high random bits
        made.extend(new_id("x_") for _ in range(3))
    within_a_ms = [m for m in made if m[2:12] == made[0][2:12]]
    assert within_a_ms == sorted(within_a_ms)
    assert len(set(made)) == len(made)

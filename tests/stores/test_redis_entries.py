"""Properties of what keyguard writes to Redis and of the check of what it reads back: any
bytes at all decode to a record only if keyguard, holding the pepper, wrote exactly them under
exactly that digest; everything else is `BAD`, and nothing raises."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from hypothesis import assume, example, given
from hypothesis import strategies as st

from keyguard import Access, KeyRecord
from keyguard.adapters._redis_entries import BAD, EntryCodec
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, Quota, derive_key, parse_rate_limit
from keyguard.ports import StoreChange

from .._records import a_record

CODEC = EntryCodec(derive_key("pepper", SHARED_CACHE_MAC_CONTEXT), ttl=60.0)
OTHER_PEPPER = EntryCodec(derive_key("another pepper", SHARED_CACHE_MAC_CONTEXT), ttl=60.0)
NO_PEPPER = EntryCodec(derive_key(None, SHARED_CACHE_MAC_CONTEXT), ttl=60.0)
digests = st.binary(min_size=32, max_size=32)
text = st.text(min_size=1, max_size=40)
times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
PERMISSIONS = ["orders:read", "orders:*", "a_1:b"]
ORIGINS = ["https://shop.example.com", "http://*.example.org:8080"]
NETWORKS = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]


def _fit_access(record: KeyRecord) -> KeyRecord:
    """Origins are for publishable keys, networks for secret keys: drop the other list."""
    if record.access is Access.SECRET:
        return dataclasses.replace(record, allowed_origins=None)
    return dataclasses.replace(record, allowed_networks=None)


RATE_LIMITS = [parse_rate_limit(t) for t in ("100/s", "5000/h", "20/10s")] + [
    parse_rate_limit("1/d", "daily")
]
records = st.builds(
    KeyRecord,
    id=text,
    name=text,
    account=text,
    owner=st.none() | text,
    environment=text,
    access=st.sampled_from(Access),
    prefix=text,
    last4=text,
    created_at=times,
    last_used_at=st.none() | times,
    revoked_at=st.none() | times,
    expires_at=st.none() | times,
    replaced_by=st.none() | text,
    metadata=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    version=st.integers(0, 2**63 - 1),
    permissions=st.none() | st.frozensets(st.sampled_from(PERMISSIONS), max_size=4),
    allowed_origins=st.none()
    | st.lists(st.sampled_from(ORIGINS), min_size=1, unique=True).map(tuple),
    allowed_networks=st.none()
    | st.lists(st.sampled_from(NETWORKS), min_size=1, unique=True).map(tuple),
    rate_limits=st.none()
    | st.lists(st.sampled_from(RATE_LIMITS), max_size=3, unique_by=lambda r: r.name).map(tuple),
    quota=st.none()
    | st.builds(
        lambda left, refill, at, set_at: Quota(left, refill[0], refill[1], at, set_at),
        st.integers(0, 10**12),
        st.tuples(st.none(), st.none()) | st.tuples(st.integers(1, 10**12), st.just(86_400_000)),
        st.integers(0, 2**53),
        st.integers(0, 2**53),
    ),
    counted_as=st.none() | text,
).map(_fit_access)


def _same(a: KeyRecord, b: KeyRecord) -> bool:
    return a == b and a.version == b.version and dict(a.metadata) == dict(b.metadata)


@given(digest=digests, record=st.none() | records)
def test_what_keyguard_writes_it_reads_back(digest: bytes, record: KeyRecord | None) -> None:
    decoded = CODEC.decode(digest, CODEC.encode(digest, record, 60_000))
    assert decoded is not BAD
    found, expires_ms = decoded
    assert (found is None) if record is None else (found is not None and _same(found, record))
    assert CODEC.fresh(expires_ms)


@given(digest=digests, raw=st.binary(max_size=600))
@example(digest=b"d" * 32, raw=b"{not json")
@example(digest=b"d" * 32, raw=b"!")
def test_any_bytes_at_all_are_bad_without_raising(digest: bytes, raw: bytes) -> None:
    assert CODEC.decode(digest, raw) is BAD


@given(digest=digests, record=records, position=st.integers(0), flip=st.integers(1, 255))
def test_changing_any_byte_of_an_entry_makes_it_bad(
    digest: bytes, record: KeyRecord, position: int, flip: int
) -> None:
    raw = bytearray(CODEC.encode(digest, record, 60_000))
    raw[position % len(raw)] ^= flip
    assert CODEC.decode(digest, bytes(raw)) is BAD


@given(digest=digests, other=digests, record=records)
def test_an_entry_copied_under_another_digest_is_bad(
    digest: bytes, other: bytes, record: KeyRecord
) -> None:
    assume(other != digest)
    assert CODEC.decode(other, CODEC.encode(digest, record, 60_000)) is BAD


@given(digest=digests, record=records)
def test_an_entry_signed_without_the_pepper_is_bad(digest: bytes, record: KeyRecord) -> None:
    for forger in (OTHER_PEPPER, NO_PEPPER):
        assert CODEC.decode(digest, forger.encode(digest, record, 60_000)) is BAD


@given(digest=digests, depth=st.integers(500, 20_000))
def test_deep_nesting_under_a_valid_mac_is_bad_not_a_recursion_error(
    digest: bytes, depth: int
) -> None:
    body = b'{"x": 1, "r": {"m": ' + b"[" * depth + b"]" * depth + b"}}"
    assert CODEC.decode(digest, CODEC.seal(digest, body)) is BAD


@given(digest=digests, field=st.sampled_from(["c", "u", "rv", "ex", "v"]), value=st.integers())
def test_numbers_out_of_range_under_a_valid_mac_are_bad_or_in_range(
    digest: bytes, field: str, value: int
) -> None:
    fields = json.loads(CODEC.encode(digest, a_record(), 60_000)[32:])
    fields["r"][field] = value
    decoded = CODEC.decode(digest, CODEC.seal(digest, json.dumps(fields).encode()))
    in_range = 0 <= value <= (2**63 - 1 if field == "v" else 253_402_300_799_999)
    assert (decoded is not BAD) == in_range


@given(
    change=st.builds(
        StoreChange,
        seq=st.integers(0, 2**63 - 1),
        key_id=st.from_regex(r"key_[0-9A-Z]{1,26}", fullmatch=True),
        digest=digests,
        event=st.sampled_from(["api_key.revoked", "api_key.rehashed"]),
        at=st.none(),  # the commit time's round trip: tests/observe/test_change_notices.py
    )
)
def test_change_notices_round_trip_and_forged_ones_are_bad(change: StoreChange) -> None:
    assert CODEC.open_change(CODEC.sign_change(change)) == change
    assert CODEC.open_change(OTHER_PEPPER.sign_change(change)) is BAD
    assert CODEC.open_change(CODEC.sign_change(change)[32:]) is BAD


MALFORMED = [(f, v) for f in ("pm", "og", "nw") for v in ("x", [1], {"a": 1}, ["Orders:read"])]
MALFORMED += [("og", []), ("nw", []), ("nw", ["10.0.0.1/8"]), ("og", ["https://a.example/p"])]


@given(digest=digests, case=st.sampled_from(MALFORMED))
def test_a_signed_entry_with_malformed_restrictions_is_bad(
    digest: bytes, case: tuple[str, object]
) -> None:
    """Signed by keyguard yet not what keyguard writes (a writer with a bug): a miss, never a
    record read as wider than it is, never an exception."""
    field, bad = case
    record = a_record(access=Access.PUBLISHABLE if field == "og" else Access.SECRET)
    raw = CODEC.encode(digest, record, 60_000)
    body = json.loads(raw[32:])
    body["r"][field] = bad
    resealed = CODEC.seal(digest, json.dumps(body).encode())
    assert CODEC.decode(digest, resealed) is BAD

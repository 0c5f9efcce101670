"""The Redis change notice carries the change's commit time (ms precision) for the lag of
`change_applied`: it round-trips, a notice from an older sender (four fields) still opens with
no time, and anything else signed but shaped otherwise is `BAD`."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from keyguard.adapters._redis_entries import BAD, EntryCodec
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, derive_key
from keyguard.ports import StoreChange

CODEC = EntryCodec(derive_key("pepper", SHARED_CACHE_MAC_CONTEXT), ttl=60.0)
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
changes = st.builds(
    StoreChange,
    seq=st.integers(0, 2**63 - 1),
    key_id=st.from_regex(r"key_[0-9A-Z]{1,26}", fullmatch=True),
    digest=st.binary(min_size=32, max_size=32),
    event=st.sampled_from(["api_key.revoked", "api_key.rolled"]),
    at=st.none() | st.integers(1, MAX_TIME_MS).map(lambda ms: ms / 1000),
)


def signed(body: bytes) -> bytes:
    """A notice as `CODEC` would sign it, whatever its body."""
    return CODEC._mac(b"change ", body) + body


@given(change=changes)
@example(change=StoreChange(1, "key_1", b"d" * 32, "api_key.revoked", 1.001))
@example(change=StoreChange(1, "key_1", b"d" * 32, "api_key.revoked", 1_764_288_000.123))
def test_a_notice_round_trips_with_its_commit_time(change: StoreChange) -> None:
    assert CODEC.open_change(CODEC.sign_change(change)) == change


@given(change=changes)
def test_an_older_senders_notice_opens_without_a_time_and_more_fields_are_bad(
    change: StoreChange,
) -> None:
    body = CODEC.sign_change(change)[32:]
    four = body.rsplit(b" ", 1)[0]
    assert CODEC.open_change(signed(four)) == change._replace(at=None)
    assert CODEC.open_change(signed(body + b" 7")) is BAD
    assert CODEC.open_change(signed(four[: four.rindex(b" ")])) is BAD  # three: bad too

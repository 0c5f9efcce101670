"""Request ids are ours to trust: an incoming X-Request-ID shaped like a key, whole or cut,
valid or not, is dropped and a fresh id minted (issue 11, finding 4)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keyguard import Access, KeyFormat
from keyguard.core import sane_request_id

FORMAT = KeyFormat(("test", "live", "staging"))


@given(
    st.sampled_from(list(Access)),
    st.sampled_from(FORMAT.environments),
    st.text("abcXYZ019.:-", max_size=20),
    st.text("abcXYZ019.:-", max_size=20),
    st.integers(min_value=16, max_value=38),
)
def test_an_id_holding_a_key_is_dropped(
    access: Access, environment: str, before: str, after: str, kept: int
) -> None:
    key = FORMAT.generate(access, environment)
    cut = key[: key.index("_", 3) + 1 + kept]  # whole, or its random part cut short
    assert sane_request_id(f"{before}{cut}{after}".encode()) is None


def test_ordinary_ids_still_pass() -> None:
    for fine in ("abc-123.x:y", "req_01J9ZABCDEF", "sk_test_short", "trace:pk_live_", "a" * 128):
        assert sane_request_id(fine.encode()) == fine

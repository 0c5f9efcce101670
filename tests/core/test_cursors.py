"""The cursor grammar is total: every string it allows is a position a store can start after,
and a cursor given out holds exactly the place of the item it came from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import (
    AUDIT_CURSOR,
    KEY_CURSOR,
    MAX_CURSOR_LENGTH,
    NEVER_USED,
    KeySort,
    ValidationError,
    audit_cursor_position,
    checked_key_cursor,
    key_cursor,
    key_cursor_position,
)

from .._records import a_record

KEY_ID = "key_" + "0" * 26
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@given(st.from_regex(KEY_CURSOR, fullmatch=True), st.sampled_from(list(KeySort)))
def test_every_cursor_the_grammar_allows_is_a_place_in_every_order(
    cursor: str, sort: KeySort
) -> None:
    value, key_id = key_cursor_position(cursor, sort)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert key_id.startswith("key_")
    if isinstance(value, str):
        assert "\0" not in value
        value.encode("utf-8")  # a store can hold it: no lone surrogate
    else:
        assert NEVER_USED <= value <= datetime(9999, 12, 31, tzinfo=UTC)


@given(st.text(max_size=40).filter(lambda s: not KEY_CURSOR.fullmatch(s)))
def test_anything_else_is_a_validation_error_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        key_cursor_position(cursor, KeySort.NAME)
    assert caught.value.issues[0].field == "cursor"


@given(st.text(min_size=1, max_size=100).filter(lambda s: "\0" not in s), times, times | st.none())
def test_a_cursor_given_out_holds_the_place_of_its_item(
    name: str, created: datetime, used: datetime | None
) -> None:
    try:
        name.encode()
    except UnicodeEncodeError:
        return  # a name with a lone surrogate is never stored
    record = a_record(id=KEY_ID, name=name, created_at=created, last_used_at=used)
    for sort, expected in (
        (KeySort.NAME, name),
        (KeySort.CREATED_DESC, created),
        (KeySort.LAST_USED_DESC, used or NEVER_USED),
    ):
        cursor = key_cursor(sort, record)
        assert KEY_CURSOR.fullmatch(cursor)
        assert key_cursor_position(cursor, sort) == (expected, record.id)


def test_an_empty_cursor_is_the_first_page_and_audit_cursors_are_event_ids() -> None:
    assert checked_key_cursor("", KeySort.NAME) is None
    assert audit_cursor_position("evt_" + "0" * 26) == "evt_" + "0" * 26
    assert AUDIT_CURSOR.fullmatch("evt_" + "0" * 26)
    with pytest.raises(ValidationError):
        audit_cursor_position(f"00.{KEY_ID}")

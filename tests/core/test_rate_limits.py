"""The rate-limit grammar: every limit's canonical text parses back equal, anything else is
refused with the list entry named, and the bounds hold."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from keyguard.core import (
    MAX_RATE_LIMITS,
    RATE_LIMIT_PATTERN,
    RateLimit,
    ValidationError,
    parse_rate_limit,
    validate_rate_limits,
)

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,39}", fullmatch=True)


@st.composite
def rate_limits(draw: st.DrawFn) -> RateLimit:
    count = draw(st.integers(1, 10**9) | st.integers(1, 100))
    window_ms = 1000 * draw(st.integers(1, 86_400) | st.sampled_from([1, 60, 3600, 86_400]))
    assume(math.lcm(count, window_ms) <= 2**53)
    return RateLimit(count, window_ms, draw(names))


@given(rate_limits())
def test_the_canonical_text_parses_back_equal(limit: RateLimit) -> None:
    assert RATE_LIMIT_PATTERN.fullmatch(limit.text)
    assert parse_rate_limit(limit.text, limit.name) == limit
    unnamed = validate_rate_limits([limit.text])
    assert unnamed == (RateLimit(limit.limit, limit.window_ms, limit.text),)


@given(rate_limits())
def test_the_ticks_make_the_interval_whole(limit: RateLimit) -> None:
    k = limit.ticks_per_ms
    assert limit.interval_ticks * limit.limit == limit.window_ms * k == limit.capacity_ticks
    assert limit.capacity_ticks <= 2**53  # what a Lua double holds exactly


@pytest.mark.parametrize(
    ("text", "limit", "window_ms", "canonical"),
    [("100/s", 100, 1000, "100/s"), ("10000/h", 10000, 3_600_000, "10000/h"),
     ("500/15m", 500, 900_000, "500/15m"), ("1000/d", 1000, 86_400_000, "1000/d"),
     ("20/10s", 20, 10_000, "20/10s"), ("60/60s", 60, 60_000, "60/m"),
     ("5/1s", 5, 1000, "5/s"), ("7/24h", 7, 86_400_000, "7/d"), ("1/90s", 1, 90_000, "1/90s")],
)  # fmt: skip
def test_the_documented_examples(text: str, limit: int, window_ms: int, canonical: str) -> None:
    parsed = parse_rate_limit(text)
    assert (parsed.limit, parsed.window_ms, parsed.text, parsed.name) == (
        limit, window_ms, canonical, canonical
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["", "100", "100/", "/s", "0/s", "01/s", "100/0s", "100/01s", "-1/s", "1.5/s", "100/1.5s",
     "100 /s", "100/s ", " 100/s", "100/S", "100/w", "100/ms", "100/2d", "100/25h",
     "1000000001/s", "100/s/s", "100per s", "\uff1100/s", "100/s\n", "999999937/d"],
)  # fmt: skip
def test_the_shapes_people_try_are_refused_with_the_entry_named(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_rate_limits(["100/s", text])
    assert [issue.field for issue in caught.value.issues] == ["rateLimits[1]"]


@given(st.text(max_size=30))
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    assume(not RATE_LIMIT_PATTERN.fullmatch(text))
    with pytest.raises(ValidationError) as caught:
        validate_rate_limits([text], field="limits")
    assert caught.value.issues[0].field == "limits[0]"


def test_the_list_bounds() -> None:
    five = ["1/s", "2/s", "3/s", "4/s", "5/s"]
    with pytest.raises(ValidationError, match=f"at most {MAX_RATE_LIMITS}") as caught:
        validate_rate_limits(five)
    assert caught.value.issues[0].field == "rateLimits"
    for not_a_list in ("100/s", b"100/s", {"limit": "100/s"}, 100, None):
        with pytest.raises(ValidationError, match="list of rate limits"):
            validate_rate_limits(not_a_list)
    assert validate_rate_limits([]) == ()


def test_names_are_given_or_canonical_and_distinct() -> None:
    both = validate_rate_limits([{"limit": "10/s", "name": "burst"}, "10000/h"])
    assert [limit.name for limit in both] == ["burst", "10000/h"]
    with pytest.raises(ValidationError, match="repeats the name") as caught:
        validate_rate_limits(["60/m", "60/60s"])
    assert caught.value.issues[0].field == "rateLimits[1]"
    bad = [{"limit": "10/s", "name": 'a"b'}, {"limit": 10}, {"limit": "1/s", "other": 1}, 7]
    with pytest.raises(ValidationError) as many:
        validate_rate_limits(bad)
    assert [issue.field for issue in many.value.issues] == [f"rateLimits[{i}]" for i in range(4)]


@pytest.mark.parametrize(
    ("limit", "window_ms", "name"),
    [(0, 1000, "a"), (10**9 + 1, 1000, "a"), (1, 999, "a"), (1, 1500, "a"),
     (1, 86_401_000, "a"), (1, 1000, ""), (1, 1000, "-a"), (1, 1000, "a b"), (1, 1000, "é")],
)  # fmt: skip
def test_a_limit_is_checked_when_made(limit: int, window_ms: int, name: str) -> None:
    with pytest.raises(ValueError, match="must"):
        RateLimit(limit, window_ms, name)

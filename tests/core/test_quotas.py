"""Quotas: spend and refill against a plain simulation, never negative, inputs validated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import Quota, ValidationError, next_refill_ms, spend, validate_quota

refills = st.none() | st.tuples(st.integers(1, 20), st.integers(1000, 20_000))
steps = st.lists(st.tuples(st.integers(0, 50_000), st.integers(0, 4)), max_size=40)


@given(st.integers(0, 30), refills, st.integers(0, 10**12), steps)
def test_spending_matches_a_plain_simulation(
    remaining: int,
    refill: tuple[int, int] | None,
    start: int,
    stream: list[tuple[int, int]],
) -> None:
    amount, interval = refill if refill else (None, None)
    quota = Quota(remaining, amount, interval, start)
    # The oracle walks the refill schedule one due time at a time.
    left, due, now = remaining, (start + interval if interval else None), start
    for gap, cost in stream:
        now += gap
        while due is not None and due <= now:
            assert amount is not None and interval is not None
            left, due = max(left, amount), due + interval
        admitted, quota = spend(quota, now, cost)
        assert admitted is (left >= cost)
        left -= cost if admitted else 0
        assert quota.remaining == left >= 0
        if due is not None:
            assert next_refill_ms(quota, now) == due - now
        else:
            assert next_refill_ms(quota, now) is None


def test_a_refill_sets_the_allowance_and_keeps_its_schedule() -> None:
    quota = Quota(0, 100, 60_000, 0)
    assert spend(quota, 59_999, 1) == (False, quota)
    admitted, after = spend(quota, 185_000, 1)  # three periods missed: one refill, not three
    assert admitted
    assert after == Quota(99, 100, 60_000, 180_000)  # still on the grid of the first
    assert next_refill_ms(after, 185_000) == 55_000
    topped = Quota(5000, 100, 60_000, 0)  # an operator's top-up is not taken away
    assert spend(topped, 60_000, 1)[1].remaining == 4999
    assert spend(Quota(3, 100, 60_000, 10_000), 5_000, 1)[1].refilled_at_ms == 10_000  # skew


def test_validation_names_the_field() -> None:
    assert validate_quota(10, 5, 60_000, now_ms=7) == Quota(10, 5, 60_000, 7, 7)
    assert validate_quota(0, now_ms=7) == Quota(0, None, None, 7, 7)
    cases = {
        "quota.remaining": (-1, None, None),
        "quota.refill": (1, 5, None),
        "quota.refillAmount": (1, 0, 60_000),
        "quota.refillInterval": (1, 5, 999),
    }
    for field, (remaining, amount, interval) in cases.items():
        with pytest.raises(ValidationError) as caught:
            validate_quota(remaining, amount, interval, now_ms=0)
        assert field in [issue.field for issue in caught.value.issues]
    for nonsense in (True, 1.0, "5", None, 10**13):
        with pytest.raises(ValidationError):
            validate_quota(nonsense, now_ms=0)
    with pytest.raises(ValueError, match="remaining"):
        Quota(-1, None, None, 0)
    with pytest.raises(ValueError, match="negative"):
        spend(Quota(1, None, None, 0), 0, -1)

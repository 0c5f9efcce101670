"""The RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10): exact
bytes for hand-checked cases shaped like the draft's examples, and, for any decision, fields
that a strict parser of the RFC 9651 subset keyguard emits accepts, saying what they should."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.core import RateDecision, RateLimit, gcra, rate_limit_headers, sf_string

# RFC 9651: sf-string (section 3.3.3), parameters with lowercase keys (3.1.2) and sf-integer
# values (3.3.1, at most 15 digits), list members joined by OWS "," OWS (3.1).
_STRING = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"'
_PARAMS = r"(?:;[a-z*][a-z0-9_.*-]*=-?[0-9]{1,15})*"
_ITEM = re.compile(rf"({_STRING})({_PARAMS})")
_LIST = re.compile(rf"{_ITEM.pattern}(?:[ \t]*,[ \t]*{_ITEM.pattern})*")


def parse_list(value: bytes) -> list[tuple[str, dict[str, int]]]:
    """A strict parser for the subset: a list of Strings with integer parameters."""
    text = value.decode("ascii")
    assert _LIST.fullmatch(text), text
    items = []
    for match in _ITEM.finditer(text):
        name = re.sub(r"\\(.)", r"\1", match.group(1)[1:-1])
        params = {}
        for part in match.group(2).split(";")[1:]:
            key, _, number = part.partition("=")
            assert key not in params  # a repeated key would be ambiguous
            params[key] = int(number)
        items.append((name, params))
    return items


def decide(limits: list[RateLimit], steps: list[tuple[int, int]]) -> RateDecision:
    tats: tuple[int | None, ...] = (None,) * len(limits)
    decision = gcra(tats, 0, limits, 0)
    for now, cost in steps:
        decision = gcra(tats, now, limits, cost)
        tats = decision.tats
    return decision


def test_one_policy_part_spent() -> None:
    """Like the draft's "basic";q=100;w=60 example: 40 of 100 a minute spent at once."""
    basic = [RateLimit(100, 60_000, "basic")]
    assert rate_limit_headers(basic, decide(basic, [(0, 1)] * 40)) == [
        (b"ratelimit-policy", b'"basic";q=100;w=60'),
        (b"ratelimit", b'"basic";r=60;t=1'),  # the next unit is back in 600 ms
    ]


def test_several_policies_report_the_one_closest_to_exhaustion() -> None:
    """Like the draft's "Use with multiple windows" (Appendix B.3.2): hour and day, the day
    nearly spent; RateLimit-Policy lists both, RateLimit names the day alone."""
    hour, day = RateLimit(1000, 3_600_000, "hour"), RateLimit(5000, 86_400_000, "day")
    now = 50_400_000
    day_tat = now + 86_400_000 - 101 * 17_280  # 101 units left: one request leaves 100
    decision = gcra([None, day_tat], now, [hour, day])
    assert rate_limit_headers([hour, day], decision) == [
        (b"ratelimit-policy", b'"hour";q=1000;w=3600, "day";q=5000;w=86400'),
        (b"ratelimit", b'"day";r=100;t=18'),  # a day's unit comes back every 17.28 s
    ]


def test_a_refusal_adds_retry_after() -> None:
    """Like the draft's throttled response: r=0, and Retry-After at the same moment as t."""
    default = [RateLimit(1, 5_000, "default")]
    refused = decide(default, [(0, 1), (0, 1)])
    assert rate_limit_headers(default, refused) == [
        (b"ratelimit-policy", b'"default";q=1;w=5'),
        (b"ratelimit", b'"default";r=0;t=5'),
        (b"retry-after", b"5"),
    ]
    almost = decide(default, [(0, 1), (4_999, 1)])  # 1 ms to go: never "Retry-After: 0"
    assert rate_limit_headers(default, almost)[-1] == (b"retry-after", b"1")


def test_strings_are_quoted_and_escaped() -> None:
    assert sf_string('a"b\\c') == '"a\\"b\\\\c"'
    assert parse_list(sf_string('a"b\\c').encode()) == [('a"b\\c', {})]
    with pytest.raises(ValueError, match="printable ASCII"):
        sf_string("caf\u00e9")
    with pytest.raises(ValueError, match="non-empty"):
        rate_limit_headers([], RateDecision(True, (), (), (), None))


@st.composite
def limit_lists(draw: st.DrawFn) -> list[RateLimit]:
    sizes = draw(
        st.lists(st.tuples(st.integers(1, 50), st.integers(1, 90)), min_size=1, max_size=4)
    )
    names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,39}", fullmatch=True)
    labels = draw(st.lists(names, min_size=len(sizes), max_size=len(sizes), unique=True))
    return [RateLimit(n, s * 1000, label) for (n, s), label in zip(sizes, labels, strict=True)]


@settings(max_examples=300)
@given(limit_lists(), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 3)), max_size=60))
def test_any_decision_gives_well_formed_fields(
    limits: list[RateLimit], gaps: list[tuple[int, int]]
) -> None:
    smallest = min(limit.limit for limit in limits)
    steps, now = [], 0
    for gap, cost in gaps:
        now += gap
        steps.append((now, min(cost, smallest)))
    decision = decide(limits, steps)
    fields = rate_limit_headers(limits, decision)
    names = [name for name, _ in fields]
    assert names == [b"ratelimit-policy", b"ratelimit"] + (
        [] if decision.admitted else [b"retry-after"]
    )
    policy = parse_list(fields[0][1])
    assert policy == [(lim.name, {"q": lim.limit, "w": lim.window_ms // 1000}) for lim in limits]
    [(name, params)] = parse_list(fields[1][1])
    index = [lim.name for lim in limits].index(name)
    assert params == {
        "r": decision.remaining[index],
        "t": math.ceil(decision.reset_ms[index] / 1000),
    }
    assert params["r"] == min(decision.remaining)
    if not decision.admitted:
        retry_after = int(fields[2][1])
        assert retry_after >= max(1, params["t"])  # draft section 6: not before the reset
        assert params["r"] < max(1, steps[-1][1])  # the limit reported is one that refused

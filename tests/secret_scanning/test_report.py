"""A report's body: GitHub's array of found tokens, bounded, and the answer GitHub expects."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.core import ValidationError
from keyguard.web.secret_scanning.report import ReportedToken, answer_body, parse_report

GOOD = {"token": "sk_live_x", "type": "keyguard_api_key", "url": "https://x", "source": "content"}


def test_a_report_parses_into_its_tokens() -> None:
    bare = {"token": "t2", "type": "keyguard_api_key"}
    parsed = parse_report(json.dumps([GOOD, bare]).encode())
    assert parsed == [
        ReportedToken("sk_live_x", "keyguard_api_key", "https://x", "content"),
        ReportedToken("t2", "keyguard_api_key", None, None),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"{}", "body"),
        (b"[]", "body"),
        (b"[" * 100_000, "body"),
        (json.dumps([1]).encode(), "[0]"),
        (json.dumps([{**GOOD, "token": ""}]).encode(), "[0].token"),
        (json.dumps([GOOD, {**GOOD, "token": "x" * 513}]).encode(), "[1].token"),
        (json.dumps([{"token": "t"}]).encode(), "[0].type"),
        (json.dumps([{**GOOD, "url": ["deeper"]}]).encode(), "[0].url"),
        (json.dumps([{**GOOD, "source": "s" * 101}]).encode(), "[0].source"),
    ],
)
def test_a_malformed_report_names_what_is_wrong(body: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_report(body)
    assert caught.value.issues[0].field == field


def test_a_report_has_a_bounded_number_of_tokens() -> None:
    with pytest.raises(ValidationError, match="at most 3 tokens"):
        parse_report(json.dumps([GOOD] * 4).encode(), max_tokens=3)


def test_the_answer_gives_each_token_as_its_sha256_never_the_token() -> None:
    reported = ReportedToken("sk_live_secret", "keyguard_api_key", None, None)
    other = ReportedToken("nope", "keyguard_api_key", None, None)
    body = answer_body([(reported, True), (other, False)])
    assert b"sk_live_secret" not in body
    assert json.loads(body) == [
        {
            "token_hash": hashlib.sha256(b"sk_live_secret").hexdigest(),
            "token_type": "keyguard_api_key",
            "label": "true_positive",
        },
        {
            "token_hash": hashlib.sha256(b"nope").hexdigest(),
            "token_type": "keyguard_api_key",
            "label": "false_positive",
        },
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=400)
    | st.recursive(st.none() | st.text(), st.lists).map(lambda value: json.dumps([value]).encode())
)
def test_any_body_is_tokens_or_a_validation_error(body: bytes) -> None:
    parsed: list[ReportedToken] = []
    issues: tuple[object, ...] = ()
    try:
        parsed = parse_report(body)
    except ValidationError as exc:
        issues = exc.issues
    assert bool(parsed) != bool(issues)
    assert all(isinstance(item.token, str) and item.token for item in parsed)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"token": st.text(min_size=1, max_size=512), "type": st.text(min_size=1, max_size=200)}
        ),
        min_size=1,
        max_size=5,
    )
)
def test_every_well_formed_report_parses_and_answers_one_entry_per_token(
    items: list[dict[str, str]],
) -> None:
    parsed = parse_report(json.dumps(items).encode())
    assert [(p.token, p.type) for p in parsed] == [(i["token"], i["type"]) for i in items]
    assert len(json.loads(answer_body((p, False) for p in parsed))) == len(items)

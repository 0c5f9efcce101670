"""Key-shaped text out of logs: `redact_keys` and `KeyRedactingFilter` (issue 11, finding 4)."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from keyguard import Access, KeyFormat, KeyRedactingFilter
from keyguard.core import KEY_IN_URL, redact_keys

FORMAT = KeyFormat(("test", "live", "staging"))
AROUND = st.text(st.characters(exclude_categories=["Cs"]), max_size=30).filter(
    lambda s: not s[-1:].isalnum() and not s[:1].isalnum()
)


@given(st.sampled_from(list(Access)), st.sampled_from(FORMAT.environments), AROUND, AROUND)
def test_every_key_in_text_is_shown_as_prefix_and_last4(
    access: Access, environment: str, before: str, after: str
) -> None:
    key = FORMAT.generate(access, environment)
    shown = redact_keys(f"{before}{key}{after}")
    assert key not in shown
    parsed = FORMAT.parse(key)
    assert f"{parsed.prefix}…{parsed.last4}" in shown
    assert redact_keys(shown) == shown
    assert KEY_IN_URL.search(f"/v1/x?{before}{key}".encode("utf-8", "replace"))


def test_a_key_run_into_more_characters_or_percent_encoded_is_cut_too() -> None:
    key = FORMAT.generate(Access.SECRET, "live")
    for text in (f"?k={key}ppp", f"/v1/{key}0000", f"/v1/{key.replace('_', '%5F')}"):
        shown = redact_keys(text)
        assert key[8:-4] not in shown, text
        assert "…" in shown


def test_other_text_is_left_alone() -> None:
    for text in ("GET /v1/me 200", "sk_test_short", "task_list_" + "a" * 40, "desk_top_x"):
        assert redact_keys(text) == text


def test_the_filter_rewrites_message_and_arguments() -> None:
    key = FORMAT.generate(Access.SECRET, "live")
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "GET %s"', ("1.2.3.4", f"/x?k={key}"),
        None,
    )  # fmt: skip
    assert KeyRedactingFilter().filter(record)
    assert key not in record.getMessage()
    named = logging.LogRecord("x", logging.INFO, __file__, 1, f"{key} %(k)s", None, None)
    named.args = {"k": key}
    KeyRedactingFilter().filter(named)
    assert key not in named.getMessage()

"""The document's patterns are the server's rules, read by a JSON Schema validator (Rust's
regex engine, as schemathesis and most tools use) and by keyguard alike: for any text, the
schema and the server agree on names and searches."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import ValidationError, has_hidden_characters, validate_name
from keyguard.web import management_openapi

DOCUMENT = management_openapi()
NAME = jsonschema_rs.validator_for(
    DOCUMENT["components"]["schemas"]["CreateAPIKey"]["properties"]["name"]
)
SEARCH = jsonschema_rs.validator_for(
    next(
        p["schema"]
        for p in DOCUMENT["paths"]["/v1/account/api-keys"]["get"]["parameters"]
        if p["name"] == "q"
    )
)
# Text as people type it, with the characters the rules are about mixed in.
tricky = st.sampled_from(
    [
        " ",
        "\t",
        "\x00",
        "\x1f",
        "\x7f",
        "\x85",
        "\xa0",
        "\xad",
        "\u200b",
        "\u200e",
        "\u2028",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\ufff9",
        "\u3000",
        "é",
        "😍",
        "\ue000",
        "\u0378",
    ]
)
texts = st.lists(st.characters(exclude_categories=["Cs"]) | tricky, max_size=12).map("".join)


def _server_accepts_name(text: str) -> bool:
    try:
        validate_name(text)
    except ValidationError:
        return False
    return True


@given(texts)
def test_a_name_is_valid_for_the_schema_exactly_when_the_server_takes_it(text: str) -> None:
    assert NAME.is_valid(text) == _server_accepts_name(text), repr(text)


@given(texts)
def test_a_search_is_valid_for_the_schema_exactly_when_the_server_takes_it(text: str) -> None:
    assert SEARCH.is_valid(text) == (not has_hidden_characters(text)), repr(text)


def test_the_schema_says_what_it_cannot_state() -> None:
    name: dict[str, Any] = DOCUMENT["components"]["schemas"]["CreateAPIKey"]["properties"]["name"]
    assert "lone surrogates" in name["description"]
    assert not _server_accepts_name("a\ud800b")

"""The document's patterns are the server's rules, read by a JSON Schema validator (Rust's
regex engine, as schemathesis and most tools use) and by keyguard alike: for any text, the
schema and the server agree on names, searches, permissions and allowed origins."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import (
    MAX_PERMISSIONS,
    MAX_PLACES,
    ValidationError,
    has_hidden_characters,
    validate_name,
)
from keyguard.web import management_openapi
from keyguard.web.management.models import request_models

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


SCHEMAS = DOCUMENT["components"]["schemas"]
_CREATE = SCHEMAS["CreateAPIKey"]["properties"]


def _items(field: str) -> Any:
    (array,) = [b for b in _CREATE[field]["anyOf"] if b.get("type") == "array"]
    return array


PERMISSION = jsonschema_rs.validator_for(_items("permissions")["items"])
ORIGIN = jsonschema_rs.validator_for(_items("allowedOrigins")["items"])
_MODELS = request_models(("test", "live"))
# Permissions and origins as people write them, and as they go wrong.
_WORD = st.text(alphabet="abcXz09_-*.:", max_size=6) | st.sampled_from(["orders", "*", "x" * 41])
permissions = st.tuples(_WORD, st.sampled_from([":", "", "::"]), _WORD).map("".join)
_LABEL = st.text(alphabet="abK\u212a09-", min_size=0, max_size=5) | st.just("a" * 64)
origins = st.tuples(
    st.sampled_from(["https://", "HTTP://", "ftp://", "https:/", "http://*."]),
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["", ":0", ":80", ":00443", ":65535", ":65536", ":\u0661", "/", "/x", ":"]),
).map("".join)


def _server_accepts(field: str, value: str) -> bool:
    try:
        _MODELS.read(_MODELS.update_key, {field: [value]})
    except ValidationError:
        return False
    return True


@given(permissions | texts)
def test_a_permission_is_valid_for_the_schema_exactly_when_the_server_takes_it(
    text: str,
) -> None:
    assert PERMISSION.is_valid(text) == _server_accepts("permissions", text), repr(text)


@given(origins | texts)
def test_an_origin_is_valid_for_the_schema_exactly_when_the_server_takes_it(text: str) -> None:
    assert ORIGIN.is_valid(text) == _server_accepts("allowedOrigins", text), repr(text)


def test_the_lists_state_their_bounds_and_what_null_means() -> None:
    assert _items("permissions")["maxItems"] == MAX_PERMISSIONS
    assert _items("allowedOrigins")["maxItems"] == MAX_PLACES
    assert _items("allowedNetworks")["maxItems"] == MAX_PLACES
    assert "not restricted" in _CREATE["permissions"]["description"]
    for field in ("allowedOrigins", "allowedNetworks"):
        assert "works from anywhere" in _CREATE[field]["description"]
    assert "host bits" in _CREATE["allowedNetworks"]["description"]
    usable = SCHEMAS["APIKeySummary"]["properties"]["usableFrom"]
    assert set(usable["enum"]) == {"anywhere", "allowedOrigins", "allowedNetworks"}
    update = SCHEMAS["UpdateAPIKey"]["properties"]
    assert all("default" not in update[f] for f in update)  # left out is not null
    assert "stays as it is" in update["permissions"]["description"]


def test_each_operation_says_which_permission_it_needs() -> None:
    needs = {"get": "api_keys:read", "post": "api_keys:write", "patch": "api_keys:write",
             "delete": "api_keys:write"}  # fmt: skip
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            assert f"`{needs[method]}`" in operation["description"], (path, method)
            assert "insufficient_scope" in operation["responses"]["403"]["description"]

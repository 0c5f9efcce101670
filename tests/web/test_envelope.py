"""The response envelope and the 401 challenge header."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import ErrorCode
from keyguard.web._envelope import (
    FORBIDDEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    MISSING_KEY_MESSAGE,
    RATE_LIMITED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    error_body,
    success_body,
    www_authenticate,
)

AT = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
REQUEST_ID = "req_01J9ZV2Y4M8W6T3Q5R7P9N1K0H"


def test_error_body_is_exactly_the_contract() -> None:
    body = error_body(ErrorCode.INVALID_API_KEY, INVALID_KEY_MESSAGE, REQUEST_ID, at=AT)
    assert body == (
        b'{"data":null,"error":{"code":"INVALID_API_KEY",'
        b'"message":"The API key is invalid, revoked or expired."},'
        b'"meta":{"requestId":"req_01J9ZV2Y4M8W6T3Q5R7P9N1K0H",'
        b'"timestamp":"2026-11-22T09:30:15.123Z"}}'
    )


def test_error_body_with_details() -> None:
    details = [{"field": "name", "message": "must be 1 to 100 characters"}]
    body = json.loads(
        error_body(ErrorCode.VALIDATION_ERROR, "Invalid request.", REQUEST_ID, details=details)
    )
    assert list(body) == ["data", "error", "meta"]
    assert body["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid request.",
        "details": details,
    }
    empty = json.loads(error_body(ErrorCode.VALIDATION_ERROR, "x", REQUEST_ID, details=[]))
    assert empty["error"]["details"] == []


def test_success_body() -> None:
    body = success_body({"id": "key_1", "name": "ci"}, REQUEST_ID, at=AT)
    assert body == (
        b'{"data":{"id":"key_1","name":"ci"},"error":null,'
        b'"meta":{"requestId":"req_01J9ZV2Y4M8W6T3Q5R7P9N1K0H",'
        b'"timestamp":"2026-11-22T09:30:15.123Z"}}'
    )


def test_success_body_extra_meta_follows_the_standard_keys() -> None:
    body = json.loads(success_body([1, 2], REQUEST_ID, meta={"nextCursor": "abc"}, at=AT))
    assert body["meta"] == {
        "requestId": REQUEST_ID,
        "timestamp": "2026-11-22T09:30:15.123Z",
        "nextCursor": "abc",
    }
    assert list(body["meta"]) == ["requestId", "timestamp", "nextCursor"]
    assert body["data"] == [1, 2]
    assert body["error"] is None


@pytest.mark.parametrize("key", ["requestId", "timestamp"])
def test_meta_cannot_override_the_envelope(key: str) -> None:
    with pytest.raises(ValueError, match="requestId or timestamp"):
        success_body(None, REQUEST_ID, meta={key: "forged"})


def test_timestamps_are_utc_with_z() -> None:
    plus_two = datetime(2026, 11, 22, 11, 30, 15, 123000, tzinfo=timezone(timedelta(hours=2)))
    body = json.loads(success_body(None, REQUEST_ID, at=plus_two))
    assert body["meta"]["timestamp"] == "2026-11-22T09:30:15.123Z"


def test_timestamp_defaults_to_now() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    body = json.loads(error_body(ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, REQUEST_ID))
    stamp = body["meta"]["timestamp"]
    assert stamp.endswith("Z")
    at = datetime.fromisoformat(stamp)
    assert before <= at <= datetime.now(UTC)


def test_non_ascii_is_utf8_not_escaped() -> None:
    body = success_body({"name": "clé"}, REQUEST_ID, at=AT)
    assert '"clé"'.encode() in body
    assert json.loads(body)["data"]["name"] == "clé"


def test_a_lone_surrogate_still_gives_valid_json() -> None:
    body = success_body({"name": "\ud800"}, REQUEST_ID, at=AT)
    assert b"\\ud800" in body
    assert json.loads(body.decode("utf-8"))["data"]["name"] == "\ud800"


def test_nan_is_not_json() -> None:
    with pytest.raises(ValueError, match="JSON"):
        success_body(float("nan"), REQUEST_ID)


@given(
    st.sampled_from(list(ErrorCode)),
    st.text(),
    st.text(),
    st.none() | st.lists(st.dictionaries(st.text(), st.text() | st.integers()), max_size=3),
)
def test_error_body_round_trips(
    code: ErrorCode, message: str, request_id: str, details: list[dict[str, Any]] | None
) -> None:
    body = error_body(code, message, request_id, details=details, at=AT)
    parsed = json.loads(body.decode("utf-8"))
    assert parsed["data"] is None
    assert parsed["error"]["code"] == code.value
    assert parsed["error"]["message"] == message
    assert parsed["error"].get("details") == details
    assert parsed["meta"] == {"requestId": request_id, "timestamp": "2026-11-22T09:30:15.123Z"}
    # Compact: exactly what the most compact json.dumps gives, in the contract's key order.
    assert body == json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()


def test_messages_are_distinct_and_say_nothing_specific() -> None:
    messages = [
        INVALID_KEY_MESSAGE,
        MISSING_KEY_MESSAGE,
        FORBIDDEN_MESSAGE,
        RATE_LIMITED_MESSAGE,
        UNAVAILABLE_MESSAGE,
    ]
    assert len(set(messages)) == len(messages)
    # One message for every bad key: it must not tell a typo from a revoked or unknown key.
    for word in ("checksum", "unknown", "not found", "format"):
        assert word not in INVALID_KEY_MESSAGE.lower()


def test_www_authenticate() -> None:
    assert www_authenticate("api", key_sent=False) == b'Bearer realm="api"'
    assert www_authenticate("api", key_sent=True) == b'Bearer realm="api", error="invalid_token"'


def test_www_authenticate_escapes_the_realm() -> None:
    value = www_authenticate('my "shop" \\ api', key_sent=False)
    assert value == b'Bearer realm="my \\"shop\\" \\\\ api"'


@pytest.mark.parametrize("realm", ["api\r\nSet-Cookie: a=b", "tab\there", "caf\u00e9", "\x7f"])
def test_www_authenticate_refuses_unprintable_realms(realm: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        www_authenticate(realm, key_sent=True)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))
def test_any_printable_realm_is_one_well_formed_quoted_string(realm: str) -> None:
    value = www_authenticate(realm, key_sent=False).decode("ascii")
    assert value.startswith('Bearer realm="') and value.endswith('"')
    inner = value[len('Bearer realm="') : -1]
    # Undo the quoted-pairs: what remains is the realm, and no bare quote ended it early.
    unescaped, i = [], 0
    while i < len(inner):
        assert inner[i] != '"', "an unescaped quote ends the realm early"
        if inner[i] == "\\":
            i += 1
        unescaped.append(inner[i])
        i += 1
    assert "".join(unescaped) == realm

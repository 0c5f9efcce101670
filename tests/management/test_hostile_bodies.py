"""Hostile bodies get a clear 400 and cost nothing: JSON nested deep anywhere is refused before
any recursive work, naming the field (issue 11, finding 2); the Python API refuses deep metadata
the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keyguard import Access, KeyFormat, KeyGuard, ValidationError

from .conftest import KEYS, Caller, envelope, fields_of, state

NEW = {"name": "Deep", "environment": "test", "access": "secret"}


def _nested(depth: int, kind: str) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _nested_text(depth: int, kind: str) -> str:
    """The JSON of `_nested`, written out: too deep for `json.dumps` itself."""
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return opening * depth + '"bottom"' + closing * depth


@pytest.mark.parametrize("depth", [33, 330, 5000])
@pytest.mark.parametrize("kind", ["list", "object"])
async def test_deep_metadata_is_a_400_naming_the_field(
    admin: Caller, guard: KeyGuard, depth: int, kind: str
) -> None:
    before = await state(guard, admin.record.account)
    body = json.dumps(NEW)[:-1] + f', "metadata": {{"deep": {_nested_text(depth, kind)}}}}}'
    answer = await admin.post(KEYS, content=body, headers={"content-type": "application/json"})
    error = envelope(answer, 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"metadata"}
    assert await state(guard, admin.record.account) == before


async def test_deep_json_in_an_unknown_field_names_no_field_of_theirs(admin: Caller) -> None:
    body = json.dumps(NEW)[:-1] + f', "x<script>": {_nested_text(400, "list")}}}'
    answer = await admin.post(KEYS, content=body, headers={"content-type": "application/json"})
    error = envelope(answer, 400, "VALIDATION_ERROR")
    assert "x<script>" not in answer.text
    assert fields_of(error) == {"body"}


async def test_metadata_a_little_nested_is_fine(admin: Caller) -> None:
    body = {**NEW, "metadata": {"team": {"name": "x", "tags": [["a"], ["b"]]}}}
    envelope(await admin.post(KEYS, json=body), 201)


@pytest.mark.parametrize("depth", [33, 2000])
async def test_the_python_api_refuses_deep_metadata(guard: KeyGuard, depth: int) -> None:
    with pytest.raises(ValidationError) as raised:
        await guard.manager.create(
            account="deep", name="x", environment="test", access="secret",
            metadata={"deep": _nested(depth, "object")},
        )  # fmt: skip
    assert [i.field for i in raised.value.issues] == ["metadata"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "", "json"],
)
async def test_a_body_that_is_not_declared_json_is_a_415(
    admin: Caller, guard: KeyGuard, content_type: str
) -> None:
    before = await state(guard, admin.record.account)
    headers = {"content-type": content_type} if content_type else {}
    answer = await admin.post(KEYS, content=json.dumps(NEW), headers=headers)
    envelope(answer, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await state(guard, admin.record.account) == before


async def test_json_with_a_charset_is_json(admin: Caller) -> None:
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    envelope(await admin.post(KEYS, content=json.dumps(NEW), headers=headers), 201)


async def test_no_answer_echoes_what_the_client_sent(admin: Caller) -> None:
    """A key pasted into the wrong place (the path, a field's name, a parameter's name) comes
    back in no answer: messages and details are our own words and names (finding 4)."""
    leaked = KeyFormat().generate(Access.SECRET, "live")
    json_type = {"content-type": "application/json"}
    answers = [
        await admin.get(f"{KEYS}/{leaked}"),
        await admin.get(f"{KEYS}/key_{leaked[8:34].upper()}"),
        await admin.delete(f"{KEYS}/{leaked}"),
        await admin.post(KEYS, json={**NEW, leaked: 1}),
        await admin.post(KEYS, content=f'{{"{leaked}": 1, "{leaked}": 2}}', headers=json_type),
        await admin.get(f"{KEYS}?{leaked}=1"),
        await admin.get(f"{KEYS}?{leaked}=1&{leaked}=2"),
        await admin.post(f"{KEYS}/{admin.id}/roll", json={leaked: 60}),
    ]
    for answer in answers:
        assert answer.status_code in (400, 401, 404), answer.text  # 401: a key in the URL
        assert leaked not in answer.text
        assert leaked[8:34] not in answer.text.lower() and leaked[8:34].upper() not in answer.text

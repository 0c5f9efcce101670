"""Bad input: 400 with every wrong field named, 413 past 64 KiB, and never a partial write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from keyguard import KeyGuard

from .conftest import AUDIT, KEYS, Caller, envelope, fields_of, state

NEW = {"name": "CI runner", "environment": "test", "access": "secret"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**NEW, "name": ""}, {"name"}),
        ({**NEW, "name": "x" * 101}, {"name"}),
        ({**NEW, "name": "   "}, {"name"}),
        ({**NEW, "name": "tab\there"}, {"name"}),
        ({**NEW, "environment": "staging"}, {"environment"}),
        ({**NEW, "access": "admin"}, {"access"}),
        (
            {**NEW, "name": 5, "environment": ["test"], "access": None},
            {"name", "environment", "access"},
        ),
        ({**NEW, "expiresAt": 5}, {"expiresAt"}),
        ({**NEW, "expiresAt": "2999-01-01"}, {"expiresAt"}),
        ({**NEW, "expiresAt": "2999-01-01T00:00:00"}, {"expiresAt"}),
        ({**NEW, "expiresAt": "2999-02-30T00:00:00Z"}, {"expiresAt"}),
        ({**NEW, "metadata": "team=web"}, {"metadata"}),
        ({**NEW, "metadata": {"x": "y" * 5000}}, {"metadata"}),
        ({**NEW, "metadata": {"nul": "a\u0000b"}}, {"metadata"}),
        ({**NEW, "owner": "mallory"}, {"body"}),  # a name that is not ours: never named back
        ({**NEW, "account": "other"}, {"body"}),
        ({**NEW, "x<script>": 1, "name": ""}, {"body", "name"}),
        ({"name": "only a name"}, {"environment", "access"}),
        ({}, {"name", "environment", "access"}),
    ],
)
async def test_create_rejects_each_wrong_field(
    guard: KeyGuard, admin: Caller, body: dict[str, Any], fields: set[str]
) -> None:
    before = await state(guard, admin.record.account)
    error = envelope(await admin.post(KEYS, json=body), 400, "VALIDATION_ERROR")
    assert fields_of(error) == fields
    assert all(d["message"] for d in error["details"])
    assert await state(guard, admin.record.account) == before


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"name": "x", ', "body"),
        (b"[1, 2]", "body"),
        (b'"just a string"', "body"),
        (b"\xff\xfe not json", "body"),
        (b'{"name": "a", "name": "b", "environment": "test", "access": "secret"}', "name"),
        (b'{"name": NaN, "environment": "test", "access": "secret"}', "body"),
        (
            b'{"name": "a", "environment": "test", "access": "secret", "metadata": {"n": 1e999}}',
            "metadata",
        ),
        (b"[" * 5000 + b"]" * 5000, "body"),
    ],
)
async def test_malformed_json_is_400(
    guard: KeyGuard, admin: Caller, content: bytes, field: str
) -> None:
    before = await state(guard, admin.record.account)
    headers = {"content-type": "application/json"}
    error = envelope(
        await admin.post(KEYS, content=content, headers=headers), 400, "VALIDATION_ERROR"
    )
    assert fields_of(error) == {field}
    assert await state(guard, admin.record.account) == before


@pytest.mark.parametrize(
    "when", ["2020-01-01T00:00:00Z", "0999-06-01T00:00:00Z", "0001-01-01T00:00:00+00:00"]
)
async def test_an_expiry_already_past_makes_a_key_that_is_expired(admin: Caller, when: str) -> None:
    made = envelope(await admin.post(KEYS, json={**NEW, "expiresAt": when}), 201)
    assert made["status"] == "expired"
    assert made["expiresAt"] == made["createdAt"]  # no made-up year reaches the store
    refused = await admin.get(KEYS, headers={"authorization": f"Bearer {made['value']}"})
    assert refused.status_code == 401
    for query, listed in (("", True), ("?status=expired", True), ("?status=active", False)):
        page = envelope(await admin.get(KEYS + query), 200)
        assert (made["id"] in {k["id"] for k in page}) is listed, query


async def test_rename_and_roll_check_their_bodies(guard: KeyGuard, admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=NEW), 201)
    url = f"{KEYS}/{key['id']}"
    before = await state(guard, admin.record.account)
    cases = [
        (url, "PATCH", {"name": ""}, {"name"}),
        (url, "PATCH", {"name": "x" * 101}, {"name"}),
        (url, "PATCH", {"name": None}, {"name"}),  # a name is never lifted
        (url, "PATCH", {"name": "ok", "environment": "live"}, {"environment"}),
        (f"{url}/roll", "POST", {"gracePeriodSeconds": "60"}, {"gracePeriodSeconds"}),
        (f"{url}/roll", "POST", {"gracePeriodSeconds": True}, {"gracePeriodSeconds"}),
        (f"{url}/roll", "POST", {"gracePeriodSeconds": 1.5}, {"gracePeriodSeconds"}),
        (f"{url}/roll", "POST", {"gracePeriodSeconds": -1}, {"gracePeriodSeconds"}),
        (f"{url}/roll", "POST", {"gracePeriodSeconds": 31 * 86400}, {"gracePeriodSeconds"}),
        (f"{url}/roll", "POST", {"grace": 60}, {"body"}),  # not a name of ours
    ]
    for target, method, body, fields in cases:
        error = envelope(await admin.request(method, target, json=body), 400, "VALIDATION_ERROR")
        assert fields_of(error) == fields, (method, body)
    assert await state(guard, admin.record.account) == before


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("limit=0", {"limit"}),
        ("limit=101", {"limit"}),
        ("limit=ten", {"limit"}),
        ("limit=-1", {"limit"}),
        ("limit=%D9%A3", {"limit"}),  # an Arabic-Indic three: int() would take it
        ("cursor=not-a-cursor", {"cursor"}),
        ("cursor=" + "A" * 600, {"cursor"}),
        ("sort=newest", {"sort"}),
        ("status=dead", {"status"}),
        ("environment=prod", {"environment"}),
        ("access=root", {"access"}),
        ("q=" + "x" * 101, {"q"}),
        ("q=nul%00byte", {"q"}),
        ("owner=alice", {"query"}),  # a name that is not ours: never named back
        ("account=other", {"query"}),
        ("limit=5&limit=6", {"limit"}),
        ("colour=1&colour=2", {"query"}),
        ("limit=0&sort=up&colour=red", {"limit", "sort", "query"}),
    ],
)
async def test_list_rejects_bad_parameters(admin: Caller, query: str, fields: set[str]) -> None:
    error = envelope(await admin.get(f"{KEYS}?{query}"), 400, "VALIDATION_ERROR")
    assert fields_of(error) == fields


async def test_a_cursor_only_fits_the_list_it_came_from(admin: Caller) -> None:
    for _ in range(3):
        envelope(await admin.post(KEYS, json=NEW), 201)
    by_name = (await admin.get(f"{KEYS}?sort=name&limit=1")).json()["meta"]["nextCursor"]
    audit = (await admin.get(f"{AUDIT}?limit=1")).json()["meta"]["nextCursor"]
    # Under another order a key list's cursor is still a place to start: the schema allows it.
    envelope(await admin.get(f"{KEYS}?sort=createdAt&cursor={by_name}"), 200)
    assert fields_of(
        envelope(await admin.get(f"{KEYS}?cursor={audit}"), 400, "VALIDATION_ERROR")
    ) == {"cursor"}
    assert fields_of(
        envelope(await admin.get(f"{AUDIT}?cursor={by_name}"), 400, "VALIDATION_ERROR")
    ) == {"cursor"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("event=api_key.exploded", {"event"}),
        ("keyId=sk_live_nope", {"keyId"}),
        ("since=yesterday", {"since"}),
        ("since=0001-01-01T00:00:00%2B01:00", {"since"}),
        ("limit=1000", {"limit"}),
        ("cursor=abc", {"cursor"}),
        ("kind=created", {"query"}),
    ],
)
async def test_audit_log_rejects_bad_parameters(
    admin: Caller, query: str, fields: set[str]
) -> None:
    error = envelope(await admin.get(f"{AUDIT}?{query}"), 400, "VALIDATION_ERROR")
    assert fields_of(error) == fields


async def test_operations_without_parameters_refuse_them(guard: KeyGuard, admin: Caller) -> None:
    url = f"{KEYS}/{admin.id}"
    before = await state(guard, admin.record.account)
    assert fields_of(envelope(await admin.get(f"{url}?verbose=1"), 400, "VALIDATION_ERROR")) == {
        "query"  # a name that is not ours: never named back
    }
    assert fields_of(
        envelope(await admin.delete(f"{url}?permanent=yes"), 400, "VALIDATION_ERROR")
    ) == {"permanent"}
    assert fields_of(
        envelope(await admin.delete(f"{url}?force=true"), 400, "VALIDATION_ERROR")
    ) == {"query"}
    assert fields_of(
        envelope(await admin.post(f"{KEYS}?dry=1", json=NEW), 400, "VALIDATION_ERROR")
    ) == {"query"}
    assert await state(guard, admin.record.account) == before


BIG = b'{"name": "big", "environment": "test", "access": "secret", "metadata": {"x": "%s"}}'


async def test_a_body_over_64_kib_is_413(guard: KeyGuard, admin: Caller) -> None:
    before = await state(guard, admin.record.account)
    body = BIG % (b"y" * 70_000)
    error = envelope(await admin.post(KEYS, content=body), 413, "PAYLOAD_TOO_LARGE")
    assert "64 KiB" in error["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * 4096
        yield body

    envelope(await admin.post(KEYS, content=chunks()), 413, "PAYLOAD_TOO_LARGE")
    url = f"{KEYS}/{admin.id}"
    envelope(await admin.patch(url, content=b" " * 65537), 413, "PAYLOAD_TOO_LARGE")
    envelope(await admin.post(f"{url}/roll", content=b" " * 65537), 413, "PAYLOAD_TOO_LARGE")
    assert await state(guard, admin.record.account) == before


async def test_exactly_64_kib_is_read(admin: Caller) -> None:
    body = b'{"name": "edge", "environment": "test", "access": "secret"}'
    padded = body + b" " * (65536 - len(body))
    json_type = {"content-type": "application/json"}
    envelope(await admin.post(KEYS, content=padded, headers=json_type), 201)


async def test_a_made_up_cursor_is_a_place_to_start_on_every_store(admin: Caller) -> None:
    """Any cursor of the grammar is a position, even one whose name holds a NUL (PostgreSQL
    refuses a NUL in text: it must never reach it) or bytes that are not UTF-8, or a time past
    the end of the calendar; anything else is a 400 naming the cursor."""
    key = "key_" + "0" * 26
    for sort, value in (
        ("name", "610062"),
        ("name", "ff"),
        ("createdAt", "ff" * 40),
        ("-lastUsedAt", ""),
    ):
        answer = await admin.get(f"{KEYS}?sort={sort}&cursor={value}.{key}")
        assert answer.status_code == 200, answer.text
    for cursor in ("61.key_x", "6.key_" + "0" * 26, "zz." + key[:-1], "61" + key):
        error = envelope(
            await admin.get(f"{KEYS}?sort=name&cursor={cursor}"), 400, "VALIDATION_ERROR"
        )
        assert fields_of(error) == {"cursor"}

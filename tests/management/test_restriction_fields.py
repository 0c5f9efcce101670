"""Issue 13 over HTTP: a key's permissions, allowed origins and allowed networks are set at
creation, shown in lists, details and the create answer, and changed by PATCH (audited as
`api_key.permissions_changed`, read back from the store); bad lists are 400s naming the item."""

from __future__ import annotations

from typing import Any

import pytest

from keyguard import KeyGuard

from .conftest import AUDIT, KEYS, Caller, envelope, fields_of, state

SECRET = {"name": "billing", "environment": "live", "access": "secret"}
PUBLISHABLE = {"name": "storefront", "environment": "live", "access": "publishable"}
RESTRICTION_FIELDS = ("permissions", "allowedOrigins", "allowedNetworks", "usableFrom")


async def test_a_restricted_key_shows_its_restrictions_everywhere(admin: Caller) -> None:
    body = {
        **SECRET,
        "permissions": ["orders:write", "orders:read", "orders:read", "products:*"],
        "allowedNetworks": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
    }
    created = envelope(await admin.post(KEYS, json=body), 201)
    expected = {
        "permissions": ["orders:read", "orders:write", "products:*"],
        "allowedOrigins": None,
        "allowedNetworks": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"],
        "usableFrom": "allowedNetworks",
    }
    assert {f: created[f] for f in RESTRICTION_FIELDS} == expected
    detail = envelope(await admin.get(f"{KEYS}/{created['id']}"), 200)
    assert {f: detail[f] for f in RESTRICTION_FIELDS} == expected
    rows = envelope(await admin.get(KEYS), 200)
    row = next(r for r in rows if r["id"] == created["id"])
    assert {f: row[f] for f in RESTRICTION_FIELDS} == expected


async def test_a_publishable_key_lists_origins_and_an_unrestricted_key_says_anywhere(
    admin: Caller,
) -> None:
    origins = ["HTTPS://Shop.Example.com:443", "https://*.example.com", "http://localhost:3000"]
    pk = envelope(await admin.post(KEYS, json={**PUBLISHABLE, "allowedOrigins": origins}), 201)
    assert pk["allowedOrigins"] == [
        "https://shop.example.com",
        "https://*.example.com",
        "http://localhost:3000",
    ]
    assert pk["usableFrom"] == "allowedOrigins" and pk["permissions"] is None
    plain = envelope(await admin.post(KEYS, json={**SECRET, "permissions": None}), 201)
    assert {f: plain[f] for f in RESTRICTION_FIELDS} == {
        "permissions": None,
        "allowedOrigins": None,
        "allowedNetworks": None,
        "usableFrom": "anywhere",
    }
    nothing = envelope(await admin.post(KEYS, json={**SECRET, "permissions": []}), 201)
    assert nothing["permissions"] == []  # may do nothing: not the same as unrestricted


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"permissions": ["orders:read", "Orders:write"]}, {"permissions[1]"}),
        ({"permissions": ["orders"]}, {"permissions[0]"}),
        ({"permissions": [7, "a:b", "a:"]}, {"permissions[0]", "permissions[2]"}),
        ({"permissions": "orders:read"}, {"permissions"}),
        ({"permissions": {"orders": "read"}}, {"permissions"}),
        ({"permissions": [f"r{i}:read" for i in range(65)]}, {"permissions"}),
        ({"allowedNetworks": ["10.0.0.1/8"]}, {"allowedNetworks[0]"}),
        ({"allowedNetworks": ["10.0.0.0/8", "nope", "::1/129"]}, {"allowedNetworks[1]",
                                                                  "allowedNetworks[2]"}),
        ({"allowedNetworks": [f"10.0.0.{i}" for i in range(65)]}, {"allowedNetworks"}),
        ({"allowedNetworks": "10.0.0.0/8"}, {"allowedNetworks"}),
        ({"allowedOrigins": ["https://shop.example.com"]}, {"allowedOrigins"}),  # a secret key
        ({"permissions": ["x"], "name": ""}, {"permissions[0]", "name"}),  # all at once
    ],
)  # fmt: skip
async def test_a_secret_keys_bad_restrictions_are_400s_naming_the_item(
    guard: KeyGuard, admin: Caller, extra: dict[str, Any], fields: set[str]
) -> None:
    before = await state(guard, admin.record.account)
    error = envelope(await admin.post(KEYS, json={**SECRET, **extra}), 400, "VALIDATION_ERROR")
    assert fields_of(error) == fields
    assert await state(guard, admin.record.account) == before


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"allowedOrigins": ["https://shop.example.com/cart"]}, {"allowedOrigins[0]"}),
        ({"allowedOrigins": ["ok.example.com"]}, {"allowedOrigins[0]"}),
        ({"allowedOrigins": ["https://a.com", "https://*.com"]}, {"allowedOrigins[1]"}),
        ({"allowedOrigins": ["https://a.com:0"]}, {"allowedOrigins[0]"}),
        ({"allowedOrigins": ["https://a.com:65536"]}, {"allowedOrigins[0]"}),
        ({"allowedOrigins": ["https://\u212aelvin.com"]}, {"allowedOrigins[0]"}),  # Kelvin sign
        ({"allowedOrigins": ["https://a.com:\u0661\u0662"]}, {"allowedOrigins[0]"}),
        ({"allowedOrigins": [None]}, {"allowedOrigins[0]"}),
        ({"allowedNetworks": ["10.0.0.0/8"]}, {"allowedNetworks"}),  # a publishable key
    ],
)
async def test_a_publishable_keys_bad_restrictions_are_400s_naming_the_item(
    guard: KeyGuard, admin: Caller, extra: dict[str, Any], fields: set[str]
) -> None:
    before = await state(guard, admin.record.account)
    response = await admin.post(KEYS, json={**PUBLISHABLE, **extra})
    assert fields_of(envelope(response, 400, "VALIDATION_ERROR")) == fields
    assert await state(guard, admin.record.account) == before


async def test_patch_restricts_audited_and_the_store_reads_it_back(
    guard: KeyGuard, admin: Caller
) -> None:
    key = envelope(await admin.post(KEYS, json=SECRET), 201)
    url = f"{KEYS}/{key['id']}"
    change = {"permissions": ["orders:read"], "allowedNetworks": ["10.1.0.0/16"]}
    changed = envelope(await admin.patch(url, json=change), 200)
    assert changed["permissions"] == ["orders:read"]
    assert changed["allowedNetworks"] == ["10.1.0.0/16"]
    assert changed["name"] == "billing"  # left out: as it was
    assert envelope(await admin.get(url), 200) == changed
    stored = await guard.manager.get(key["id"])
    assert stored.permissions == frozenset({"orders:read"})
    assert stored.allowed_networks == ("10.1.0.0/16",)
    events = envelope(await admin.get(f"{AUDIT}?event=api_key.permissions_changed"), 200)
    assert len(events) == 1
    assert events[0]["keyId"] == key["id"] and events[0]["actor"] == admin.id
    assert events[0]["data"] == {
        "from": {"permissions": None, "allowedNetworks": None},
        "to": {"permissions": ["orders:read"], "allowedNetworks": ["10.1.0.0/16"]},
    }


async def test_patch_null_lifts_a_restriction_and_a_left_out_one_stays(admin: Caller) -> None:
    body = {**SECRET, "permissions": ["orders:read"], "allowedNetworks": ["10.0.0.0/8"]}
    key = envelope(await admin.post(KEYS, json=body), 201)
    url = f"{KEYS}/{key['id']}"
    renamed = envelope(await admin.patch(url, json={"name": "billing v2"}), 200)
    assert renamed["permissions"] == ["orders:read"]
    assert renamed["allowedNetworks"] == ["10.0.0.0/8"]
    lifted = envelope(await admin.patch(url, json={"allowedNetworks": None}), 200)
    assert lifted["allowedNetworks"] is None and lifted["usableFrom"] == "anywhere"
    assert lifted["permissions"] == ["orders:read"]
    both = envelope(await admin.patch(url, json={"name": "b3", "permissions": None}), 200)
    assert both["name"] == "b3" and both["permissions"] is None
    events = envelope(await admin.get(f"{AUDIT}?keyId={key['id']}"), 200)
    kinds = [e["event"] for e in events]
    assert kinds.count("api_key.renamed") == 2
    assert kinds.count("api_key.permissions_changed") == 2


async def test_an_empty_or_unchanged_patch_changes_and_logs_nothing(
    guard: KeyGuard, admin: Caller
) -> None:
    key = envelope(await admin.post(KEYS, json={**SECRET, "permissions": ["a:b"]}), 201)
    url = f"{KEYS}/{key['id']}"
    before = await state(guard, admin.record.account)
    assert envelope(await admin.patch(url, json={}), 200)["permissions"] == ["a:b"]
    envelope(await admin.patch(url, json={"permissions": ["a:b", "a:b"]}), 200)
    assert await state(guard, admin.record.account) == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"permissions": ["orders:read", "ORDERS"]}, {"permissions[1]"}),
        ({"allowedNetworks": ["10.0.0.0/33"]}, {"allowedNetworks[0]"}),
        ({"allowedOrigins": ["ftp://a.com"]}, {"allowedOrigins[0]"}),
        ({"permissions": "a:b", "name": ""}, {"permissions", "name"}),
        ({"name": None}, {"name"}),
        ({"scopes": ["a:b"]}, {"body"}),
    ],
)
async def test_patch_checks_every_field_before_changing_anything(
    guard: KeyGuard, admin: Caller, body: dict[str, Any], fields: set[str]
) -> None:
    key = envelope(await admin.post(KEYS, json=SECRET), 201)
    before = await state(guard, admin.record.account)
    error = envelope(await admin.patch(f"{KEYS}/{key['id']}", json=body), 400, "VALIDATION_ERROR")
    assert fields_of(error) == fields
    assert await state(guard, admin.record.account) == before


async def test_a_list_the_keys_access_cannot_carry_or_a_revoked_key_is_409(
    guard: KeyGuard, admin: Caller
) -> None:
    sk = envelope(await admin.post(KEYS, json=SECRET), 201)
    pk = envelope(await admin.post(KEYS, json=PUBLISHABLE), 201)
    before = await state(guard, admin.record.account)
    wrong_kind = [
        (sk["id"], {"name": "x", "allowedOrigins": ["https://a.com"]}, "allowedOrigins"),
        (pk["id"], {"name": "x", "allowedNetworks": ["10.0.0.0/8"]}, "allowedNetworks"),
    ]
    for key_id, body, field in wrong_kind:
        error = envelope(await admin.patch(f"{KEYS}/{key_id}", json=body), 409, "CONFLICT")
        assert field in error["message"]
    assert await state(guard, admin.record.account) == before
    envelope(await admin.delete(f"{KEYS}/{sk['id']}"), 200)
    revoked = await state(guard, admin.record.account)
    body = {"name": "renamed", "permissions": ["a:b"]}
    envelope(await admin.patch(f"{KEYS}/{sk['id']}", json=body), 409, "CONFLICT")
    assert await state(guard, admin.record.account) == revoked  # not renamed either


async def test_a_rolled_keys_successor_keeps_its_restrictions(admin: Caller) -> None:
    body = {**SECRET, "permissions": ["orders:read"], "allowedNetworks": ["10.0.0.0/8"]}
    key = envelope(await admin.post(KEYS, json=body), 201)
    successor = envelope(await admin.post(f"{KEYS}/{key['id']}/roll", json={}), 201)
    assert successor["permissions"] == ["orders:read"]
    assert successor["allowedNetworks"] == ["10.0.0.0/8"]

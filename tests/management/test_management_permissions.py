"""Issue 13: the management API's own permissions. A restricted key needs `api_keys:read` to
read and `api_keys:write` to change (a 403 with an insufficient_scope challenge naming the
permission otherwise), hands out no more than it holds, and a test key stays on test keys
whatever permissions it has."""

from __future__ import annotations

import httpx
import pytest

from keyguard import KeyGuard

from .conftest import AUDIT, KEYS, Caller, envelope, make_caller, state

NEW = {"name": "worker", "environment": "live", "access": "secret"}


def _challenge(*scopes: str) -> str:
    value = 'Bearer realm="api", error="insufficient_scope"'
    return f'{value}, scope="{" ".join(scopes)}"' if scopes else value


async def _restricted(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, *permissions: str, env: str = "live"
) -> Caller:
    return await make_caller(guard, client, account, environment=env, permissions=list(permissions))


def _refused(response: httpx.Response, *scopes: str) -> str:
    """The refusal's message, after checking it is the 403 RFC 6750 asks for."""
    error = envelope(response, 403, "FORBIDDEN")
    assert response.headers["www-authenticate"] == _challenge(*scopes)
    for scope in scopes:
        assert scope in error["message"]
    return str(error["message"])


async def test_reading_needs_api_keys_read(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    writer = await _restricted(guard, client, account, "api_keys:write", "orders:read")
    for url in (KEYS, f"{KEYS}/{admin.id}", AUDIT, f"{AUDIT}?keyId={admin.id}"):
        _refused(await writer.get(url), "api_keys:read")
    reader = await _restricted(guard, client, account, "api_keys:read")
    assert len(envelope(await reader.get(KEYS), 200)) == 3
    assert envelope(await reader.get(f"{KEYS}/{admin.id}"), 200)["id"] == admin.id
    envelope(await reader.get(AUDIT), 200)


async def test_writing_needs_api_keys_write(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    reader = await _restricted(guard, client, account, "api_keys:read")
    target = envelope(await admin.post(KEYS, json=NEW), 201)["id"]
    before = await state(guard, account)
    attempts = [
        reader.post(KEYS, json={**NEW, "permissions": []}),
        reader.patch(f"{KEYS}/{target}", json={"name": "mine now"}),
        reader.patch(f"{KEYS}/{target}", json={"permissions": ["api_keys:read"]}),
        reader.post(f"{KEYS}/{target}/roll", json={}),
        reader.delete(f"{KEYS}/{target}"),
        reader.delete(f"{KEYS}/{reader.id}"),
    ]
    for attempt in attempts:
        _refused(await attempt, "api_keys:write")
    assert await state(guard, account) == before


async def test_a_wildcard_grants_reading_and_writing(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    manager = await _restricted(guard, client, account, "api_keys:*")
    envelope(await manager.get(KEYS), 200)
    made = envelope(await manager.post(KEYS, json={**NEW, "permissions": ["api_keys:read"]}), 201)
    envelope(await manager.patch(f"{KEYS}/{made['id']}", json={"name": "renamed"}), 200)
    envelope(await manager.patch(f"{KEYS}/{admin.id}", json={"name": "admin"}), 200)
    envelope(await manager.delete(f"{KEYS}/{made['id']}"), 200)


async def test_a_restricted_key_creates_only_keys_within_its_own_permissions(
    guard: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    caller = await _restricted(guard, client, account, "api_keys:write", "orders:read", "shop:*")
    before = await state(guard, account)
    unrestricted = _refused(await caller.post(KEYS, json=NEW))
    assert "without them" in unrestricted
    _refused(await caller.post(KEYS, json={**NEW, "permissions": None}))
    escalations = [
        (["orders:write"], ("orders:write",)),
        (["orders:read", "orders:*"], ("orders:*",)),
        (["api_keys:*"], ("api_keys:*",)),
        (["api_keys:read", "billing:refund"], ("api_keys:read", "billing:refund")),
    ]
    for permissions, lacking in escalations:
        _refused(await caller.post(KEYS, json={**NEW, "permissions": permissions}), *lacking)
    assert await state(guard, account) == before
    for permissions in (["orders:read"], ["shop:*", "shop:sell", "api_keys:write"], []):
        made = envelope(await caller.post(KEYS, json={**NEW, "permissions": permissions}), 201)
        assert made["permissions"] == sorted(set(permissions))


async def test_a_restricted_key_sets_only_permissions_it_holds_and_never_lifts_them(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    caller = await _restricted(guard, client, account, "api_keys:write", "orders:read")
    key = envelope(await admin.post(KEYS, json={**NEW, "permissions": ["orders:read"]}), 201)
    url = f"{KEYS}/{key['id']}"
    before = await state(guard, account)
    assert "lift" in _refused(await caller.patch(url, json={"permissions": None}))
    body = {"name": "x", "permissions": ["orders:read", "orders:write"]}
    _refused(await caller.patch(url, json=body), "orders:write")
    _refused(await caller.patch(f"{KEYS}/{caller.id}", json={"permissions": ["api_keys:*"]}),
             "api_keys:*")  # fmt: skip
    _refused(await caller.patch(f"{KEYS}/{caller.id}", json={"permissions": None}))
    assert await state(guard, account) == before
    narrowed = envelope(await caller.patch(url, json={"permissions": []}), 200)
    assert narrowed["permissions"] == []
    again = envelope(await caller.patch(url, json={"permissions": ["orders:read"]}), 200)
    assert again["permissions"] == ["orders:read"]
    stored = await guard.manager.get(key["id"])
    assert stored.permissions == frozenset({"orders:read"})


async def test_a_restricted_key_rolls_only_keys_it_could_have_made(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    caller = await _restricted(guard, client, account, "api_keys:write", "orders:read")
    wider = envelope(await admin.post(KEYS, json={**NEW, "permissions": ["orders:write"]}), 201)
    before = await state(guard, account)
    _refused(await caller.post(f"{KEYS}/{admin.id}/roll", json={}))  # unrestricted
    _refused(await caller.post(f"{KEYS}/{wider['id']}/roll", json={}), "orders:write")
    assert await state(guard, account) == before
    narrow = envelope(await admin.post(KEYS, json={**NEW, "permissions": ["orders:read"]}), 201)
    rolled = envelope(await caller.post(f"{KEYS}/{narrow['id']}/roll", json={}), 201)
    assert rolled["permissions"] == ["orders:read"]


async def test_an_unrestricted_key_may_lift_and_widen(guard: KeyGuard, admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json={**NEW, "permissions": ["a:b"]}), 201)
    url = f"{KEYS}/{key['id']}"
    wide = envelope(await admin.patch(url, json={"permissions": ["a:*", "c:d"]}), 200)
    assert wide["permissions"] == ["a:*", "c:d"]
    assert envelope(await admin.patch(url, json={"permissions": None}), 200)["permissions"] is None


@pytest.mark.parametrize("permissions", [["api_keys:*"], ["api_keys:read", "api_keys:write"]])
async def test_a_test_key_with_every_management_permission_never_reaches_live_keys(
    guard: KeyGuard,
    client: httpx.AsyncClient,
    account: str,
    admin: Caller,
    permissions: list[str],
) -> None:
    live = envelope(await admin.post(KEYS, json={**NEW, "permissions": ["api_keys:*"]}), 201)
    tester = await _restricted(guard, client, account, *permissions, env="test")
    own = {**NEW, "environment": "test", "permissions": ["api_keys:read"]}
    test_key = envelope(await tester.post(KEYS, json=own), 201)
    assert test_key["environment"] == "test"
    before = await state(guard, account)
    seen = envelope(await tester.get(f"{KEYS}?limit=100"), 200)
    assert {k["environment"] for k in seen} == {"test"}
    envelope(await tester.get(f"{KEYS}?environment=live"), 403, "FORBIDDEN")
    assert envelope(await tester.get(f"{AUDIT}?keyId={live['id']}"), 200) == []
    url = f"{KEYS}/{live['id']}"
    refused = [
        tester.get(url),
        tester.patch(url, json={"name": "taken"}),
        tester.patch(url, json={"permissions": ["api_keys:read"]}),
        tester.post(f"{url}/roll", json={}),
        tester.delete(url),
        tester.post(KEYS, json={**NEW, "permissions": ["api_keys:read"]}),  # a live key
    ]
    for attempt in refused:
        envelope(await attempt, 403, "FORBIDDEN")
    assert await state(guard, account) == before


async def test_a_key_limited_to_networks_hands_out_secret_keys_within_them_only(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    office = ["127.0.0.0/8", "10.0.0.0/8"]  # the test client calls from 127.0.0.1
    caller = await make_caller(guard, client, account, allowed_networks=office)
    before = await state(guard, account)
    assert "from anywhere" in _refused(await caller.post(KEYS, json=NEW))
    wider = {**NEW, "allowedNetworks": ["10.0.0.0/8", "192.168.0.0/16"]}
    assert "192.168.0.0/16" in _refused(await caller.post(KEYS, json=wider))
    v6 = {**NEW, "allowedNetworks": ["::1"]}  # another IP version is never inside
    _refused(await caller.post(KEYS, json=v6))
    _refused(await caller.patch(f"{KEYS}/{caller.id}", json={"allowedNetworks": None}))
    _refused(await caller.post(f"{KEYS}/{admin.id}/roll", json={}))  # usable from anywhere
    assert await state(guard, account) == before
    inside = {**NEW, "allowedNetworks": ["10.1.0.0/16", "127.0.0.1"]}
    made = envelope(await caller.post(KEYS, json=inside), 201)
    assert made["allowedNetworks"] == ["10.1.0.0/16", "127.0.0.1/32"]
    shop = {"name": "shop", "environment": "live", "access": "publishable"}
    assert envelope(await caller.post(KEYS, json=shop), 201)["usableFrom"] == "anywhere"

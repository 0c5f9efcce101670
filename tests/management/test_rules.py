"""Who may do what: account isolation, the test/live rule, one secret key per owner; stable
pages; and no key value in any answer after the one that created it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from keyguard import AccountSettings, KeyGuard
from keyguard.web import APIKeyMiddleware, management_routes

from .conftest import AUDIT, KEYS, Caller, envelope, make_caller, state

NEW = {"name": "CI runner", "environment": "test", "access": "secret"}
KEY_VALUE = re.compile(r"[sp]k_[a-z]+_[0-9A-Za-z]{38}")


def _without_ids(error: Any) -> Any:
    return error["message"].replace("'", "")


async def test_another_accounts_key_is_not_found_exactly_like_an_unknown_one(
    guard: KeyGuard, client: httpx.AsyncClient, admin: Caller, account: str
) -> None:
    stranger = await make_caller(guard, client, account + "-other")
    theirs = envelope(await stranger.post(KEYS, json=NEW), 201)["id"]
    unknown = "key_01HX0000000000000000000000"
    before = await state(guard, account + "-other")
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "mine now"}),
        ("DELETE", "", None),
        ("DELETE", "?permanent=true", None),
        ("POST", "/roll", None),
    ]:
        answers = []
        for key_id in (theirs, unknown):
            response = await admin.request(method, f"{KEYS}/{key_id}{suffix}", json=body)
            error = envelope(response, 404, "NOT_FOUND")
            answers.append(error["message"].replace(key_id, "<id>"))
        assert answers[0] == answers[1], method
    assert await state(guard, account + "-other") == before
    listed = envelope(await admin.get(f"{KEYS}?limit=100"), 200)
    assert theirs not in {row["id"] for row in listed}
    events = envelope(await admin.get(f"{AUDIT}?keyId={theirs}"), 200)
    assert events == []


async def test_a_malformed_id_is_not_found_too(admin: Caller) -> None:
    for key_id in ("nope", "key_lowercase0000000000000000", "sk_live_x", "%00"):
        envelope(await admin.get(f"{KEYS}/{key_id}"), 404, "NOT_FOUND")


async def test_a_test_key_manages_test_keys_only(
    guard: KeyGuard, client: httpx.AsyncClient, admin: Caller, account: str
) -> None:
    live = envelope(await admin.post(KEYS, json={**NEW, "environment": "live"}), 201)
    tester = await make_caller(guard, client, account, environment="test")
    before = await state(guard, account)
    url = f"{KEYS}/{live['id']}"
    for method, target, body in [
        ("GET", url, None),
        ("PATCH", url, {"name": "renamed"}),
        ("DELETE", url, None),
        ("POST", f"{url}/roll", None),
        ("POST", KEYS, {**NEW, "environment": "live"}),
        ("GET", f"{KEYS}?environment=live", None),
    ]:
        response = await tester.request(method, target, json=body)
        error = envelope(response, 403, "FORBIDDEN")
        assert "test keys only" in error["message"], (method, target)
    assert await state(guard, account) == before
    listed = envelope(await tester.get(KEYS), 200)
    assert {row["environment"] for row in listed} == {"test"}
    assert live["id"] not in {row["id"] for row in listed}
    made = envelope(await tester.post(KEYS, json=NEW), 201)
    envelope(await tester.delete(f"{KEYS}/{made['id']}"), 200)


async def test_a_live_key_manages_both(admin: Caller) -> None:
    for environment in ("test", "live"):
        key = envelope(await admin.post(KEYS, json={**NEW, "environment": environment}), 201)
        envelope(await admin.patch(f"{KEYS}/{key['id']}", json={"name": "n"}), 200)
        envelope(await admin.delete(f"{KEYS}/{key['id']}"), 200)
    listed = envelope(await admin.get(KEYS), 200)
    assert {row["environment"] for row in listed} == {"test", "live"}


async def test_one_active_secret_key_per_owner_where_the_account_says_so(
    guard: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    await guard.manager.set_account_settings(AccountSettings(account, True))
    alice = await make_caller(guard, client, account, owner="alice")
    before = await state(guard, account)
    error = envelope(await alice.post(KEYS, json=NEW), 409, "CONFLICT")
    assert "one active secret key per owner" in error["message"]
    assert await state(guard, account) == before
    pk = envelope(await alice.post(KEYS, json={**NEW, "access": "publishable"}), 201)
    assert (await guard.manager.get(pk["id"])).owner == "alice"  # the caller's owner
    bob = await make_caller(guard, client, account, owner="bob")  # bob's first: fine
    envelope(await bob.post(KEYS, json={**NEW, "access": "publishable"}), 201)
    # Rolling is how an owner replaces their one secret key.
    rolled = envelope(await alice.post(f"{KEYS}/{alice.id}/roll"), 201)
    assert (await guard.manager.get(rolled["id"])).owner == "alice"


async def test_without_the_rule_an_owner_may_hold_several(
    guard: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    alice = await make_caller(guard, client, account, owner="alice")
    envelope(await alice.post(KEYS, json=NEW), 201)


@pytest.mark.parametrize("sort", ["-createdAt", "createdAt", "name", "-name", "lastUsedAt"])
async def test_pages_are_stable_while_keys_come_and_go(admin: Caller, sort: str) -> None:
    names = [f"key {i:02d}" for i in range(9)]
    for name in names:
        envelope(await admin.post(KEYS, json={**NEW, "name": name}), 201)
    everyone = {row["id"] for row in envelope(await admin.get(f"{KEYS}?limit=100"), 200)}
    seen: list[str] = []
    cursor = None
    while True:
        query = f"sort={sort}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        response = await admin.get(f"{KEYS}?{query}")
        rows = envelope(response, 200)
        assert 0 < len(rows) <= 3
        seen += [row["id"] for row in rows]
        # Between pages: a new key, and a revoke of one already shown.
        envelope(await admin.post(KEYS, json={**NEW, "name": f"late {len(seen)}"}), 201)
        shown = [row["id"] for row in rows if row["id"] != admin.id]
        if shown:
            envelope(await admin.delete(f"{KEYS}/{shown[0]}"), 200)
        cursor = response.json()["meta"].get("nextCursor")
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert everyone <= set(seen)  # nothing that existed was skipped


async def test_no_answer_after_creation_holds_a_key_value(admin: Caller) -> None:
    created = [
        envelope(await admin.post(KEYS, json={**NEW, "name": f"k{i}"}), 201) for i in range(3)
    ]
    roll = envelope(await admin.post(f"{KEYS}/{created[0]['id']}/roll"), 201)
    values = {admin.value, roll["value"], *(c["value"] for c in created)}
    answers = [
        await admin.get(KEYS),
        await admin.get(f"{KEYS}?status=active&sort=name"),
        await admin.get(AUDIT),
        *[await admin.get(f"{KEYS}/{c['id']}") for c in created],
        await admin.get(f"{KEYS}/{roll['id']}"),
        await admin.patch(f"{KEYS}/{created[1]['id']}", json={"name": "renamed"}),
        await admin.delete(f"{KEYS}/{created[1]['id']}"),
        await admin.delete(f"{KEYS}/{created[1]['id']}?permanent=true"),
        await admin.post(KEYS, json={**NEW, "name": ""}),
    ]
    for response in answers:
        assert response.status_code < 500
        for value in values:
            assert value not in response.text
        assert not KEY_VALUE.search(response.text), response.text


async def test_which_environment_manages_every_environment_is_the_apps_choice(
    guard: KeyGuard, account: str
) -> None:
    """`live` by default; None makes every key manage its own environment's keys only."""
    inner = Starlette(routes=management_routes(guard, manages_every_environment=None))
    app = APIKeyMiddleware(inner, guard=guard)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        live = await make_caller(guard, client, account)
        refused = await live.post(KEYS, json={**NEW, "environment": "test"})
        envelope(refused, 403, "FORBIDDEN")
        envelope(await live.post(KEYS, json={**NEW, "environment": "live"}), 201)
    with pytest.raises(ValueError, match="unknown environment"):
        management_routes(guard, manages_every_environment="prod")

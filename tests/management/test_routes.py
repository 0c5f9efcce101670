"""Each route doing its job: create, list, read, rename, revoke, delete, roll, the audit log."""

from __future__ import annotations

from datetime import timedelta

from keyguard import KeyGuard
from keyguard.core import SUMMARY_FIELDS, utcnow

from .conftest import AUDIT, BASE, KEYS, Caller, envelope

NEW = {"name": "CI runner", "environment": "test", "access": "secret"}


async def test_create_returns_the_record_and_the_value_once(guard: KeyGuard, admin: Caller) -> None:
    response = await admin.post(KEYS, json=NEW, headers={"x-request-id": "create-1"})
    key = envelope(response, 201)
    assert response.headers["x-request-id"] == "create-1"
    assert response.headers["location"] == f"{KEYS}/{key['id']}"
    assert response.headers["cache-control"] == "no-store"
    assert (key["name"], key["environment"], key["access"]) == ("CI runner", "test", "secret")
    assert key["value"].startswith("sk_test_") and key["value"].endswith(key["last4"])
    assert (key["prefix"], key["status"], key["revokedAt"]) == ("sk_test_", "active", None)
    assert await guard.verifier.fill(guard.hasher.digest(key["value"])) is not None
    stored = await guard.manager.get(key["id"])
    assert (stored.account, stored.owner) == (admin.record.account, admin.record.owner)


async def test_create_takes_expiry_and_metadata(admin: Caller) -> None:
    expires = (utcnow() + timedelta(days=30)).isoformat()
    body = {**NEW, "access": "publishable", "expiresAt": expires, "metadata": {"team": "web"}}
    key = envelope(await admin.post(KEYS, json=body), 201)
    assert key["prefix"] == "pk_test_"
    assert key["metadata"] == {"team": "web"}
    assert key["expiresAt"].endswith("Z")
    got = envelope(await admin.get(f"{KEYS}/{key['id']}"), 200)
    assert got["metadata"] == {"team": "web"} and got["expiresAt"] == key["expiresAt"]


async def test_list_is_metadata_only(admin: Caller) -> None:
    created = envelope(await admin.post(KEYS, json=NEW), 201)
    response = await admin.get(KEYS)
    rows = envelope(response, 200)
    assert {row["id"] for row in rows} == {admin.id, created["id"]}
    for row in rows:
        assert tuple(row) == SUMMARY_FIELDS
    assert "nextCursor" not in response.json()["meta"]
    assert created["value"] not in response.text


async def test_list_filters_searches_and_sorts(admin: Caller) -> None:
    names = ["Billing sync", "billing webhook", "Mobile app"]
    ids = {}
    for name in names:
        ids[name] = envelope(await admin.post(KEYS, json={**NEW, "name": name}), 201)["id"]
    envelope(await admin.delete(f"{KEYS}/{ids['Mobile app']}"), 200)

    async def names_of(query: str) -> list[str]:
        return [row["name"] for row in envelope(await admin.get(f"{KEYS}?{query}"), 200)]

    assert await names_of("q=BILLING&sort=name") == ["Billing sync", "billing webhook"]
    assert await names_of("status=revoked") == ["Mobile app"]
    assert await names_of("environment=test&status=active&sort=-name") == names[1::-1]
    assert await names_of("environment=live") == [admin.record.name]
    assert await names_of("access=publishable") == []
    assert set(await names_of("sort=-lastUsedAt")) == {*names, admin.record.name}


async def test_get_shows_one_key(admin: Caller) -> None:
    key = envelope(await admin.get(f"{KEYS}/{admin.id}"), 200)
    assert key["id"] == admin.id
    assert (key["replacedBy"], key["metadata"]) == (None, {})
    assert "value" not in key and "account" not in key and "owner" not in key


async def test_rename_changes_the_name_and_logs_it(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=NEW), 201)
    url = f"{KEYS}/{key['id']}"
    renamed = envelope(await admin.patch(url, json={"name": "  Deploy bot  "}), 200)
    assert renamed["name"] == "Deploy bot"
    assert envelope(await admin.get(url), 200)["name"] == "Deploy bot"
    events = envelope(await admin.get(f"{AUDIT}?keyId={key['id']}&event=api_key.renamed"), 200)
    assert [e["data"] for e in events] == [{"from": "CI runner", "to": "Deploy bot"}]


async def test_revoke_is_immediate_and_the_key_then_gets_401(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json={**NEW, "environment": "live"}), 201)
    other = Caller(admin.client, key["value"], admin.record)
    envelope(await other.get(KEYS), 200)  # works, and is now in this process's cache
    revoked = envelope(await admin.delete(f"{KEYS}/{key['id']}"), 200)
    assert revoked["status"] == "revoked" and revoked["revokedAt"] is not None
    response = await other.get(KEYS)
    envelope(response, 401, "INVALID_API_KEY")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    again = envelope(await admin.delete(f"{KEYS}/{key['id']}"), 200)  # revoking again: no-op
    assert again["revokedAt"] == revoked["revokedAt"]


async def test_a_key_may_revoke_itself(admin: Caller) -> None:
    envelope(await admin.delete(f"{KEYS}/{admin.id}"), 200)
    envelope(await admin.get(KEYS), 401, "INVALID_API_KEY")


async def test_delete_needs_revoke_first(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=NEW), 201)
    url = f"{KEYS}/{key['id']}"
    error = envelope(await admin.delete(f"{url}?permanent=true"), 409, "CONFLICT")
    assert "revoke" in error["message"]
    envelope(await admin.delete(f"{url}?permanent=false"), 200)
    deleted = envelope(await admin.delete(f"{url}?permanent=true"), 200)
    assert deleted["id"] == key["id"]
    envelope(await admin.get(url), 404, "NOT_FOUND")
    events = envelope(await admin.get(f"{AUDIT}?keyId={key['id']}"), 200)
    assert [e["event"] for e in events] == [
        "api_key.deleted",
        "api_key.revoked",
        "api_key.created",
    ]


async def test_roll_mints_a_successor_and_keeps_the_old_key_for_the_grace(admin: Caller) -> None:
    old = envelope(await admin.post(KEYS, json={**NEW, "environment": "live"}), 201)
    old_caller = Caller(admin.client, old["value"], admin.record)
    response = await admin.post(f"{KEYS}/{old['id']}/roll", json={"gracePeriodSeconds": 3600})
    new = envelope(response, 201)
    assert response.headers["location"] == f"{KEYS}/{new['id']}"
    assert new["value"] != old["value"] and new["name"] == old["name"]
    still = await old_caller.get(KEYS)
    envelope(still, 200)
    assert "sunset" in still.headers
    envelope(await Caller(admin.client, new["value"], admin.record).get(KEYS), 200)
    rolled = envelope(await admin.get(f"{KEYS}/{old['id']}"), 200)
    assert rolled["replacedBy"] == new["id"] and rolled["expiresAt"] is not None
    envelope(await admin.post(f"{KEYS}/{old['id']}/roll"), 409, "CONFLICT")


async def test_roll_with_no_grace_ends_the_old_key_now(admin: Caller) -> None:
    old = envelope(await admin.post(KEYS, json={**NEW, "environment": "live"}), 201)
    roll = await admin.post(f"{KEYS}/{old['id']}/roll", json={"gracePeriodSeconds": 0})
    envelope(roll, 201)
    envelope(
        await Caller(admin.client, old["value"], admin.record).get(KEYS), 401, "INVALID_API_KEY"
    )


async def test_roll_without_a_body_uses_the_default_grace(admin: Caller) -> None:
    old = envelope(await admin.post(KEYS, json=NEW), 201)
    envelope(await admin.post(f"{KEYS}/{old['id']}/roll"), 201)
    rolled = envelope(await admin.get(f"{KEYS}/{old['id']}"), 200)
    assert rolled["status"] == "active" and rolled["expiresAt"] is not None


async def test_the_audit_log_names_the_actor_key_and_the_request(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=NEW, headers={"x-request-id": "r-create"}), 201)
    url = f"{KEYS}/{key['id']}"
    await admin.patch(url, json={"name": "x"}, headers={"x-request-id": "r-rename"})
    revoke = await admin.delete(url)  # no request id sent: one is minted, and logged
    minted = revoke.headers["x-request-id"]
    assert minted.startswith("req_")
    await admin.delete(f"{url}?permanent=true", headers={"x-request-id": "r-delete"})
    events = envelope(await admin.get(f"{AUDIT}?keyId={key['id']}"), 200)
    assert [(e["event"], e["actor"], e["requestId"]) for e in events] == [
        ("api_key.deleted", admin.id, "r-delete"),
        ("api_key.revoked", admin.id, minted),
        ("api_key.renamed", admin.id, "r-rename"),
        ("api_key.created", admin.id, "r-create"),
    ]
    assert set(events[0]) == {
        *("id", "event", "keyId", "environment", "actor", "requestId", "occurredAt", "data")
    }
    assert {e["environment"] for e in events} == {NEW["environment"]}


async def test_the_audit_log_filters_and_pages(admin: Caller) -> None:
    start = envelope(await admin.get(AUDIT), 200)
    assert [(e["keyId"], e["actor"]) for e in start] == [(admin.id, "system")]  # the fixture
    ids = [envelope(await admin.post(KEYS, json=NEW), 201)["id"] for _ in range(5)]
    await admin.delete(f"{KEYS}/{ids[0]}")
    created = envelope(await admin.get(f"{AUDIT}?event=api_key.created"), 200)
    assert [e["keyId"] for e in created] == [*ids[::-1], admin.id]
    seen: list[str] = []
    url = f"{AUDIT}?limit=2"
    while True:
        response = await admin.get(url)
        seen += [e["id"] for e in envelope(response, 200)]
        cursor = response.json()["meta"].get("nextCursor")
        if cursor is None:
            break
        url = f"{AUDIT}?limit=2&cursor={cursor}"
    assert len(seen) == len(set(seen)) == 7
    later = envelope(await admin.get(f"{AUDIT}?since=2999-01-01T00:00:00Z"), 200)
    assert later == []


async def test_the_openapi_document_is_served(admin: Caller) -> None:
    response = await admin.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        KEYS,
        f"{KEYS}/{{id}}",
        f"{KEYS}/{{id}}/roll",
        AUDIT,
    }
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"

"""The secret-scanning endpoint end to end, on both stores: a report GitHub signed revokes the
key it names (the middleware then refuses it), and whatever GitHub did not sign, or sent
already, or sent too much of, is refused without touching a key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from keyguard import KeyGuard
from keyguard.core import AuditEvent, AuditEventType, AuditQuery

from .._github_keys import SigningKey, report
from .conftest import LEAKS, ClientFor

FOUND_AT = "https://github.com/octo/repo/blob/1/app.py"


async def mint(guard: KeyGuard, account: str, environment: str = "live") -> tuple[str, str]:
    created = await guard.manager.create(
        account=account, name="leaky", environment=environment, access="secret"
    )
    return created.record.id, created.value


async def events(guard: KeyGuard, key_id: str) -> list[AuditEvent]:
    page = await guard.manager.audit(AuditQuery(key_id=key_id, limit=100))
    return list(reversed(page.items))


async def works(client: httpx.AsyncClient, value: str) -> bool:
    answer = await client.get("/v1/me", headers={"authorization": f"Bearer {value}"})
    assert answer.status_code in (200, 401)
    return answer.status_code == 200


async def send(client: httpx.AsyncClient, github_key: SigningKey, body: bytes) -> httpx.Response:
    return await client.post(LEAKS, content=body, headers=github_key.headers(body))


async def test_a_signed_report_of_a_key_revokes_it_and_says_where_it_was_found(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account)
    assert await works(client, value)

    answer = await send(client, github_key, report(value, url=FOUND_AT))

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "token_hash": hashlib.sha256(value.encode()).hexdigest(),
            "token_type": "keyguard_api_key",
            "label": "true_positive",
        }
    ]
    assert value not in answer.text
    assert not await works(client, value)
    leaked, revoked = (await events(guard, key_id))[1:]
    assert leaked.event is AuditEventType.LEAKED
    assert dict(leaked.data) == {"url": FOUND_AT, "source": "content", "action": "revoked"}
    assert leaked.actor == "secret-scanning"
    assert leaked.request_id == answer.headers["x-request-id"]
    assert revoked.event is AuditEventType.REVOKED
    assert (await guard.manager.get(key_id)).revoked_at is not None


def _unsigned(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json"}


def _signed_by_a_stranger_under_githubs_id(github_key: SigningKey, body: bytes) -> dict[str, str]:
    return {**github_key.headers(body), "github-public-key-signature": SigningKey().sign(body)}


def _signed_by_an_unpublished_key(github_key: SigningKey, body: bytes) -> dict[str, str]:
    return SigningKey().headers(body)


def _signature_of_another_body(github_key: SigningKey, body: bytes) -> dict[str, str]:
    return github_key.headers(body + b" ")


def _garbage_signature(github_key: SigningKey, body: bytes) -> dict[str, str]:
    return {**github_key.headers(body), "github-public-key-signature": "@@@"}


@pytest.mark.parametrize(
    "forge",
    [
        lambda key, body: _unsigned(body),
        _signed_by_a_stranger_under_githubs_id,
        _signed_by_an_unpublished_key,
        _signature_of_another_body,
        _garbage_signature,
    ],
    ids=["unsigned", "stranger", "unpublished-key", "other-body", "garbage"],
)
async def test_a_report_github_did_not_sign_changes_nothing(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str, forge: object
) -> None:
    key_id, value = await mint(guard, account)
    body = report(value)
    answer = await client.post(LEAKS, content=body, headers=forge(github_key, body))  # type: ignore[operator]
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert value not in answer.text
    assert await works(client, value)
    assert [e.event for e in await events(guard, key_id)] == [AuditEventType.CREATED]


async def test_a_replayed_report_is_refused_and_logs_nothing_more(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account)
    body = report(value)
    first = await send(client, github_key, body)
    assert first.status_code == 200
    before = await events(guard, key_id)
    again = await send(client, github_key, body)  # a fresh signature: ECDSA's are random
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"
    assert len(await events(guard, key_id)) == len(before)


async def test_an_oversized_report_is_refused_before_its_signature_is_checked(
    client_for: ClientFor, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    _, value = await mint(guard, account)
    body = report(*[value] * 40)
    async with client_for(guard, max_body_size=1024) as client:
        declared = await send(client, github_key, body)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: what arrives counts
            for start in range(0, len(body), 100):
                yield body[start : start + 100]

        streamed = await client.post(LEAKS, content=chunks(), headers=github_key.headers(body))
        for answer in (declared, streamed):
            assert answer.status_code == 413
            assert answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert await works(client, value)


async def test_only_a_json_post_is_read(client: httpx.AsyncClient, github_key: SigningKey) -> None:
    body = report("sk_live_whatever")
    form = {**github_key.headers(body), "content-type": "application/x-www-form-urlencoded"}
    assert (await client.post(LEAKS, content=body, headers=form)).status_code == 415
    got = await client.get(LEAKS)
    assert got.status_code == 405
    assert got.headers["allow"] == "POST"
    assert got.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_tokens_not_ours_are_false_positives_looked_up_only_when_well_formed(
    client: httpx.AsyncClient,
    guard: KeyGuard,
    github_key: SigningKey,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, value = await mint(guard, account)
    unknown = guard.key_format.generate(guard.key_format.parse(value).access, "live")
    looked_up: list[bytes] = []
    find = guard.store.find_by_digest

    async def counted(digest: bytes) -> object:
        looked_up.append(digest)
        return await find(digest)

    monkeypatch.setattr(guard.store, "find_by_digest", counted)
    bad_checksum = value[:-1] + ("x" if value[-1] != "x" else "y")
    answer = await send(client, github_key, report("ghp_not_ours", bad_checksum, unknown))
    assert [a["label"] for a in answer.json()] == ["false_positive"] * 3
    assert looked_up == [guard.hasher.digest(unknown)]  # only the well-formed one
    assert await works(client, value)


async def test_flagging_leaves_the_key_working_and_says_so(
    client_for: ClientFor, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account)
    async with client_for(guard, action="flag") as client:
        answer = await send(client, github_key, report(value))
        assert answer.json()[0]["label"] == "true_positive"
        assert await works(client, value)
    history = await events(guard, key_id)
    assert [e.event for e in history] == [AuditEventType.CREATED, AuditEventType.LEAKED]
    assert history[1].data["action"] == "flagged"


async def test_a_key_already_revoked_is_a_true_positive_and_nothing_more_is_done(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account)
    await guard.manager.revoke(key_id)
    answer = await send(client, github_key, report(value))
    assert answer.json()[0]["label"] == "true_positive"
    history = await events(guard, key_id)
    assert [e.event for e in history][-1] is AuditEventType.LEAKED
    assert history[-1].data["action"] == "none"
    assert sum(e.event is AuditEventType.REVOKED for e in history) == 1


async def test_a_test_key_and_a_key_reported_twice_are_handled_once_each(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account, environment="test")
    answer = await send(client, github_key, report(value, "ghp_nope", value))
    assert [a["label"] for a in answer.json()] == [
        "true_positive",
        "false_positive",
        "true_positive",
    ]
    history = await events(guard, key_id)
    assert [e.event for e in history].count(AuditEventType.LEAKED) == 1
    assert not await works(client, value)


async def test_a_key_quoted_in_the_url_is_not_stored(
    client: httpx.AsyncClient, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    key_id, value = await mint(guard, account)
    await send(client, github_key, report(value, url=f"https://gist.github.com/x?k={value}"))
    leaked = next(e for e in await events(guard, key_id) if e.event is AuditEventType.LEAKED)
    assert value not in json.dumps(dict(leaked.data))
    assert value[-4:] in leaked.data["url"]


async def test_a_malformed_report_is_a_validation_error_naming_the_item(
    client: httpx.AsyncClient, github_key: SigningKey
) -> None:
    body = json.dumps([{"token": "t", "type": "x"}, {"token": 7, "type": "x"}]).encode()
    answer = await send(client, github_key, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["field"] == "[1].token"

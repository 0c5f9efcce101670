"""The hooks one request makes, through a real guard (SQLite, no Redis) and the real
middleware: `verifying` with the request's id, `answered` by the tier that knew the key, `call`
around each store call, then exactly one `decided`, before the app runs or the refusal is sent.
Public paths and CORS preflights are not checked, and report nothing."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import ANY

import httpx
from starlette.types import ASGIApp, Message

from keyguard import Decision, KeyGuard, Settings
from keyguard.testing import memory_guard
from keyguard.testing import mint as mint_elsewhere

from .._websocket import websocket_handshake
from ._recording import Hook, RecordingObserver
from .conftest import QUIET, Client, bearer, hooks_holding_keys, mint, sent

FIND = ("store", "find_by_digest")
FROM_STORE = [("call", *FIND), ("call.exit", *FIND, None), ("answered", "store")]


def refusal(recorder: RecordingObserver, response: httpx.Response) -> Decision:
    """The one refusal this response's request reported, checked against the response."""
    hooks = recorder.hooks
    assert hooks[0] == Hook("verifying", (response.headers["x-request-id"],))
    assert [hook.name for hook in hooks].count("decided") == 1
    assert hooks[-1].name == "decided", "decided is the last thing reported"
    assert not recorder.named("app"), "a refused request never reached the app"
    decision = hooks[-1].args[0]
    assert isinstance(decision, Decision)
    assert not decision.accepted
    assert decision.status == response.status_code
    assert decision.code == response.json()["error"]["code"]
    return decision


async def test_first_use_asks_the_store_then_the_local_cache_answers(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, key_id = await mint(guard)
    accepted = Decision(True, "accepted", "", 0, "secret", "test", key_id)
    for request_id, tiers in (("req-first", FROM_STORE), ("req-again", [("answered", "local")])):
        recorder.take()
        headers = {**bearer(key), "x-request-id": request_id}
        assert (await client.get("/v1/me", headers=headers)).status_code == 200
        assert recorder.shape() == [
            ("verifying",),
            *tiers,
            ("decided", "accepted", 0),
            ("app", request_id),  # the id the app sees is the one reported
        ]
        assert recorder.hooks[0] == Hook("verifying", (request_id,))
        assert recorder.decisions() == [accepted]


async def test_no_key_is_missing_and_unknown(
    client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    recorder.take()
    response = await client.get("/v1/me")
    assert refusal(recorder, response) == Decision(
        False, "missing", "INVALID_API_KEY", 401, "unknown", "unknown", None
    )
    assert recorder.shape() == [("verifying",), ("decided", "missing", 401)]


async def test_garbage_is_invalid_and_asks_nobody(
    client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    recorder.take()
    response = await client.get("/v1/me", headers=bearer(sent("sk_test_" + "x" * 38)))
    assert refusal(recorder, response) == Decision(
        False, "invalid", "INVALID_API_KEY", 401, "unknown", "unknown", None
    )
    assert recorder.shape() == [("verifying",), ("decided", "invalid", 401)]


async def test_an_unknown_key_is_looked_up_once_then_known_unknown(
    client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    elsewhere = memory_guard(pepper="another")
    async with elsewhere:
        unknown = sent(await mint_elsewhere(elsewhere))  # well formed, checksum and all
    for tiers in (FROM_STORE, [("answered", "local")]):  # the "no such key" answer is cached
        recorder.take()
        response = await client.get("/v1/me", headers=bearer(unknown))
        assert refusal(recorder, response).reason == "invalid"
        assert recorder.shape() == [("verifying",), *tiers, ("decided", "invalid", 401)]


async def test_a_revoked_key_is_invalid(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, key_id = await mint(guard)
    assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    await guard.manager.revoke(key_id)
    recorder.take()
    response = await client.get("/v1/me", headers=bearer(key))
    assert refusal(recorder, response) == Decision(
        False, "invalid", "INVALID_API_KEY", 401, "unknown", "unknown", None
    )
    assert recorder.shape() == [("verifying",), *FROM_STORE, ("decided", "invalid", 401)]


async def test_a_key_in_the_url_is_refused_unread(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, _ = await mint(guard)
    recorder.take()
    response = await client.get("/v1/me", params={"api_key": key})
    decision = refusal(recorder, response)
    assert (decision.reason, decision.access, decision.key_id) == ("key_in_url", "unknown", None)
    assert recorder.shape() == [("verifying",), ("decided", "key_in_url", response.status_code)]


async def test_a_publishable_key_on_a_secret_route_is_forbidden_and_answered_once(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, key_id = await mint(guard, access="publishable")
    forbidden = Decision(False, "forbidden", "FORBIDDEN", 403, "publishable", "test", key_id)
    for tiers in (FROM_STORE, [("answered", "local")]):  # the second time from the cache
        recorder.take()
        response = await client.get("/v1/me", headers=bearer(key))
        assert refusal(recorder, response) == forbidden
        assert recorder.shape() == [("verifying",), *tiers, ("decided", "forbidden", 403)]
    recorder.take()
    allowed = await client.get("/v1/storefront/products", headers=bearer(key))
    assert allowed.status_code == 200
    assert recorder.shape()[1:3] == [("answered", "local"), ("decided", "accepted", 0)]


async def test_a_rolled_key_in_its_grace_is_answered_once_from_the_cache(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    old, old_id = await mint(guard)
    new = await guard.manager.roll(old_id)
    sent(new.value)
    for tiers in (FROM_STORE, [("answered", "local")]):
        recorder.take()
        response = await client.get("/v1/me", headers=bearer(old))
        assert response.status_code == 200 and "sunset" in response.headers
        assert recorder.shape() == [
            ("verifying",),
            *tiers,
            ("decided", "accepted", 0),
            ("app", ANY),
        ]
        assert [d.key_id for d in recorder.decisions()] == [old_id]


async def test_over_the_rate_limit_and_out_of_quota(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    rated, rated_id = await mint(guard, rate_limits=["1/m"])
    spent, spent_id = await mint(guard, rate_limits=[], quota={"remaining": 1})
    for key, key_id, reason in ((rated, rated_id, "over_rate"), (spent, spent_id, "quota_spent")):
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        recorder.take()
        response = await client.get("/v1/me", headers=bearer(key))
        assert refusal(recorder, response) == Decision(
            False, reason, "RATE_LIMITED", 429, "secret", "test", key_id
        )
        assert recorder.shape() == [("verifying",), ("answered", "local"), ("decided", reason, 429)]


async def test_a_store_that_cannot_answer_is_unavailable_and_the_call_says_it_failed(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, _ = await mint(guard)
    await guard.store.close()
    try:
        recorder.take()
        response = await client.get("/v1/me", headers=bearer(key))
        assert refusal(recorder, response) == Decision(
            False, "unavailable", "SERVICE_UNAVAILABLE", 503, "unknown", "unknown", None
        )
        shape = recorder.shape()
        assert shape[:2] == [("verifying",), ("call", *FIND)]
        assert shape[2][:3] == ("call.exit", *FIND) and shape[2][3] is not None  # it raised
        assert shape[3:] == [("decided", "unavailable", 503)]  # no tier answered
    finally:
        await guard.store.open()


async def test_public_paths_and_preflights_report_nothing(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    recorder.take()
    assert (await client.get("/health")).status_code == 200
    preflight = {"origin": "https://shop.example", "access-control-request-method": "GET"}
    answered = await client.options("/v1/storefront/products", headers=preflight)
    assert answered.status_code == 204
    assert [hook.name for hook in recorder.hooks] == ["app"]  # /health reached the app
    # A preflight keyguard does not answer (not a publishable route) is checked like any call.
    recorder.take()
    assert (await client.options("/v1/me", headers=preflight)).status_code == 401
    assert recorder.shape() == [("verifying",), ("decided", "missing", 401)]


async def test_a_websocket_handshake_reports_like_a_request(
    guard: KeyGuard, client_for: Client, recorder: RecordingObserver
) -> None:
    key, key_id = await mint(guard)
    app = client_for(guard)._transport.app  # type: ignore[attr-defined]
    with_key = [(b"authorization", f"Bearer {key}".encode())]
    recorder.take()
    await _handshake(app, with_key)
    assert recorder.shape()[0] == ("verifying",)
    assert recorder.shape()[1:] == [*FROM_STORE, ("decided", "accepted", 0), ("app", ANY)]
    assert recorder.decisions()[0].key_id == key_id
    recorder.take()
    await _handshake(app, [])
    assert recorder.shape() == [("verifying",), ("decided", "missing", 401)]


async def _handshake(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    return await websocket_handshake(app, headers, {"websocket.http.response": {}})


def test_the_check_for_keys_in_hooks_finds_them() -> None:
    """The check every test here ends with (conftest.no_key_in_hooks) can fail."""
    recorder = RecordingObserver()
    value = sent("sk_test_" + "a" * 38)
    recorder.verifying("req_1")
    assert hooks_holding_keys([recorder]) == []
    with recorder.call("store", f"find {value[-24:]}"):
        pass
    recorder.verifying(value)
    recorder.answered(value.replace("sk_test", "pk_live"))
    found = hooks_holding_keys([recorder])
    recorder.history.clear()  # for the check at the end of this test
    assert found == ["call", "call.exit", "verifying", "answered"]


class Counter(RecordingObserver):
    tracks_requests = False  # a counter's view: no `verifying`, so no request id for it


async def test_an_observer_that_does_not_track_requests_costs_a_hit_no_request_id(
    tmp_path: Path, client_for: Client
) -> None:
    """A request id is minted on first asking: a cache hit asks none, observed or not."""
    counter = Counter()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", **QUIET)
    async with KeyGuard(settings, observer=counter) as guard, client_for(guard) as client:
        key, _ = await mint(guard)
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        counter.take()
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        assert counter.shape() == [("answered", "local"), ("decided", "accepted", 0), ("app", None)]
        missing = await client.get("/v1/me")  # a refusal needs its id: minted then
        assert counter.decisions()[-1].status == missing.status_code == 401
        assert counter.named("verifying") == []

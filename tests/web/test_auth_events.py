"""Auth events through the real middleware: one `keyguard.events` line per refusal, with what
an operator needs to act on it, and never a key."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import httpx
import pytest

from keyguard import KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.core import KeyRecord

from .conftest import MakeClient, mint

Lines = Callable[[], list[dict[str, str]]]
FIELDS = ["event", "reason", "code", "status", "request_id", "client", "key_id", "key"]
_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ "]+)(?: |$)')


def parse(line: str) -> dict[str, str]:
    """A logfmt line, strictly: every character belongs to one `name=value` pair."""
    pairs = list(_PAIR.finditer(line))
    assert "".join(p.group() for p in pairs) == line, line
    return {p[1]: _value(p[2]) for p in pairs}


def _value(raw: str) -> str:
    if not raw.startswith('"'):
        return raw
    return raw[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Lines:
    caplog.set_level(logging.DEBUG)  # every logger, to look for keys in all of it

    def events() -> list[dict[str, str]]:
        found = [r for r in caplog.records if r.name == "keyguard.events"]
        for record in found:
            assert record.levelno == logging.INFO
            assert record.keyguard_event == parse(record.getMessage())  # type: ignore[attr-defined]
        return [parse(r.getMessage()) for r in found]

    return events


def assert_no_key(caplog: pytest.LogCaptureFixture, *values: str) -> None:
    for record in caplog.records:
        if not record.name.startswith("keyguard"):
            continue  # httpx, the client, logs the URL it was given
        text = f"{record.getMessage()} {vars(record)!r}"
        for value in values:
            assert value[8:] not in text  # nor the secret part in any other shape


async def record_of(guard: KeyGuard, key: str) -> KeyRecord:
    record = await guard.store.find_by_digest(guard.hasher.digest(key))
    assert record is not None
    return record


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def one(lines: Lines, response: httpx.Response, **expected: str) -> dict[str, str]:
    [line] = lines()
    assert list(line)[: len(FIELDS)] == FIELDS
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["status"] == str(response.status_code)
    assert line["client"] == "127.0.0.1"
    assert {name: line[name] for name in expected} == expected
    return line


async def test_keys_that_do_not_authenticate_are_failed_logins_showing_nothing_of_the_key(
    guard: KeyGuard, client: httpx.AsyncClient, lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    real, revoked = await mint(guard), await mint(guard)
    await guard.manager.revoke((await record_of(guard, revoked)).id)
    unknown = guard.key_format.generate(guard.key_format.parse(real).access, "test")
    tried = {
        "missing": ("/v1/me", {}),
        "invalid": ("/v1/me", bearer(unknown)),
        "key_in_url": (f"/v1/me?api_key={real}", {}),
    }
    for reason, (url, headers) in tried.items():
        caplog.clear()
        response = await client.get(url, headers=headers)
        hidden = {"key_id": "-", "key": "-", "path": "/v1/me"}
        one(lines, response, event="authn_login_fail", reason=reason, **hidden)
        assert_no_key(caplog, real, unknown)
    caplog.clear()
    response = await client.get(f"/v1/{unknown}", headers=bearer(revoked))
    line = one(lines, response, reason="invalid", key_id="-", key="-", code="INVALID_API_KEY")
    assert line["path"] == f"/v1/{unknown[:8]}…{unknown[-4:]}"  # redact_keys's shape
    assert_no_key(caplog, real, revoked, unknown)


async def test_valid_keys_refused_show_their_id_and_prefix_last4(
    guard: KeyGuard, client_for: MakeClient, lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    publishable = await mint(guard, access="publishable")
    elsewhere = await mint(guard, allowed_networks=["10.0.0.0/8"])
    lacking = await mint(guard, permissions=["orders:read"])
    limited = await mint(guard, rate_limits=["1/m"])
    tried = [
        (publishable, "authz_fail", "forbidden", "FORBIDDEN"),
        (elsewhere, "authz_fail", "wrong_network", "FORBIDDEN"),
        (lacking, "authz_fail", "missing_permissions", "FORBIDDEN"),
        (limited, "excess_rate_limit_exceeded", "over_rate", "RATE_LIMITED"),
    ]
    async with client_for(route_permissions={"GET /v1/me": "me:read"}) as client:
        assert (await client.get("/v1/me", headers=bearer(limited))).status_code == 200
        for key, event, reason, code in tried:
            caplog.clear()
            response = await client.get("/v1/me", headers=bearer(key))
            record = await record_of(guard, key)
            shown = {"key_id": record.id, "key": f"{record.prefix}…{record.last4}"}
            one(lines, response, event=event, reason=reason, code=code, **shown)
            assert_no_key(caplog, key)


async def test_the_failed_attempt_limit_and_a_store_down_have_their_own_events(
    guard: KeyGuard, client_for: MakeClient, lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = "Bearer sk_test_" + "x" * 20
    async with client_for(failure_limiter=LocalFailureLimiter(limit=1)) as client:
        for _ in range(3):
            caplog.clear()
            response = await client.get("/v1/me", headers={"authorization": garbage})
        assert response.status_code == 429
        one(lines, response, event="authn_login_fail_max", reason="rate_limited", key_id="-")
    key = await mint(guard)
    await guard.store.close()
    try:
        async with client_for() as client:
            caplog.clear()
            response = await client.get("/v1/me", headers=bearer(key))
            one(lines, response, event="sys_unavailable", code="SERVICE_UNAVAILABLE", key="-")
    finally:
        await guard.store.open()
    assert_no_key(caplog, key)


async def test_client_chosen_values_cannot_add_fields_or_lines(
    guard: KeyGuard, client_for: MakeClient, lines: Lines
) -> None:
    forged = 'a" key_id=forged event=authz_fail "b'
    evil_client = 'x y="z"\n' + "\u0085"

    async with client_for(client_address=lambda scope: evil_client) as client:
        sent = "/v1/a%22%20key_id=forged%0Aevent=authz_fail%E2%80%A8%5C"
        response = await client.get(sent, headers={"x-request-id": forged})
    path = '/v1/a" key_id=forged\nevent=authz_fail\u2028\\'  # as the ASGI scope has it
    [line] = lines()
    assert list(line) == [*FIELDS, "method", "path"]
    assert line["path"] == path
    assert line["client"] == evil_client
    assert line["key_id"] == "-"
    assert line["request_id"] == response.headers["x-request-id"]


async def test_nothing_is_logged_when_turned_off_nor_for_a_success(
    guard: KeyGuard, client_for: MakeClient, lines: Lines, caplog: pytest.LogCaptureFixture
) -> None:
    key = await mint(guard)
    async with client_for(auth_events=False) as client:
        assert (await client.get("/v1/me")).status_code == 401
    assert lines() == []
    async with client_for() as client:
        caplog.clear()
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200  # cached
    said = [r for r in caplog.records if r.name.startswith("keyguard")]
    assert [r for r in said if r.levelno >= logging.INFO] == []

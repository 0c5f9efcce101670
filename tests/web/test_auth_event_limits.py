"""The auth event lines themselves: one logfmt value per field whatever it holds, and a cap
per event name per second, with what it held back said in one line when the second turns."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard import KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.web import APIKeyMiddleware
from keyguard.web._auth_events import AuthEventLog, logfmt_value
from keyguard.web._refusals import Refusal, Refusals

from .conftest import storefront
from .test_auth_events import parse


@given(st.text())
def test_any_value_is_one_logfmt_value_on_one_line(value: str) -> None:
    shown = logfmt_value(value)
    assert len(f"x{shown}y".splitlines()) == 1
    assert parse(f"a={shown} b=c") == {"a": value, "b": "c"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "keyguard.events"]


async def test_a_flood_of_garbage_logs_the_cap_then_one_line_saying_how_many_were_held_back(
    guard: KeyGuard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="keyguard.events")
    clock = Clock(100.5)
    limiter = LocalFailureLimiter(limit=10_000)  # every one a failed login, none a lockout
    app = APIKeyMiddleware(storefront(), guard=guard, failure_limiter=limiter)
    app.auth_events = AuthEventLog(app.client_address, per_second=20, clock=clock)
    garbage = {"authorization": "Bearer sk_test_garbage"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        responses = await asyncio.gather(
            *(client.get("/v1/me", headers=garbage) for _ in range(1000))
        )
        assert {r.status_code for r in responses} == {401}
        assert len(events(caplog)) == 20
        assert (await client.get("/v1/me")).status_code == 401  # a missing key: the same event
        assert len(events(caplog)) == 20
        clock.now = 101.0
        await client.get("/v1/me", headers=garbage)
    *first, summary, last = events(caplog)
    assert len(first) == 20
    assert summary == "event=authn_login_fail suppressed=981"
    assert last.startswith("event=authn_login_fail reason=invalid ")


async def test_each_event_name_has_its_own_cap_and_a_quiet_second_still_reports(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="keyguard.events")
    clock = Clock(7.99)
    log = AuthEventLog(lambda scope: "10.0.0.1", per_second=2, clock=clock)
    refusals = Refusals("api")
    scope = {"type": "http", "path": "/v1/me", "headers": [], "method": "GET"}
    for _ in range(5):
        log.note(scope, refusals.make(Refusal.INVALID, "req_1"), None)
    log.note(scope, refusals.make(Refusal.UNAVAILABLE, "req_2"), None)
    clock.now = 8.0  # the second turns, and nothing else is refused
    for _ in range(200):
        if len(events(caplog)) == 4:
            break
        await asyncio.sleep(0.01)  # the report is due now: give its timer a turn
    lines = events(caplog)
    assert [line.split(" ")[0] for line in lines] == [
        "event=authn_login_fail",
        "event=authn_login_fail",
        "event=sys_unavailable",
        "event=authn_login_fail",
    ]
    assert lines[-1] == "event=authn_login_fail suppressed=3"
    assert caplog.records[-1].keyguard_event == {  # type: ignore[attr-defined]
        "event": "authn_login_fail",
        "suppressed": 3,
    }

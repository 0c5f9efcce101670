"""Issue 14 over HTTP: a key's rate limits and quota are set at creation, shown in lists,
details and the create answer (with the settings' default as `effectiveRateLimits`), changed by
PATCH (audited as `api_key.limits_changed`); bad ones are 400s naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware, management_routes

from ..conftest import TEST_PEPPER
from .conftest import AUDIT, KEYS, Caller, envelope, make_caller

SECRET = {"name": "billing", "environment": "live", "access": "secret"}
USAGE = ("rateLimits", "effectiveRateLimits", "quota")
DEFAULTS = {"sk": "10/s", "sk_live": "1000/s,50000/h", "pk": "100/s"}


@pytest.fixture
async def guard(database_url: str) -> AsyncIterator[KeyGuard]:
    """The management tests' guard, with default rate limits in its settings."""
    settings = Settings(database_url=database_url, pepper=TEST_PEPPER, default_rate_limits=DEFAULTS)
    guard = KeyGuard(settings)
    await guard.start()
    yield guard
    await guard.stop()


@pytest.fixture
def app(guard: KeyGuard) -> APIKeyMiddleware:
    return APIKeyMiddleware(Starlette(routes=management_routes(guard)), guard=guard)


def _limits(*texts: str) -> list[dict[str, str]]:
    return [{"limit": t, "name": t} for t in texts]


async def test_a_key_with_limits_shows_them_everywhere(admin: Caller) -> None:
    body = {
        **SECRET,
        "rateLimits": ["100/s", {"limit": "300/5m", "name": "burst"}, "60/m"],
        "quota": {"remaining": 1000, "refillAmount": 500, "refillInterval": "1d"},
    }
    before = datetime.now(UTC)
    created = envelope(await admin.post(KEYS, json=body), 201)
    rates = [*_limits("100/s"), {"limit": "300/5m", "name": "burst"}, *_limits("60/m")]
    assert created["rateLimits"] == created["effectiveRateLimits"] == rates
    quota = created["quota"]
    assert {k: quota[k] for k in ("remaining", "refillAmount", "refillInterval")} == {
        "remaining": 1000,
        "refillAmount": 500,
        "refillInterval": "1d",
    }
    next_refill = datetime.fromisoformat(quota["nextRefillAt"])
    assert before + timedelta(days=1) - timedelta(seconds=1) <= next_refill
    assert next_refill <= datetime.now(UTC) + timedelta(days=1)
    detail = envelope(await admin.get(f"{KEYS}/{created['id']}"), 200)
    row = next(r for r in envelope(await admin.get(KEYS), 200) if r["id"] == created["id"])
    for shown in (detail, row):
        assert {f: shown[f] for f in USAGE} == {f: created[f] for f in USAGE}


async def test_a_key_without_its_own_limits_shows_the_settings_default(admin: Caller) -> None:
    plain = envelope(await admin.post(KEYS, json=SECRET), 201)
    assert plain["rateLimits"] is None and plain["quota"] is None
    assert plain["effectiveRateLimits"] == _limits("1000/s", "50000/h")  # sk_live wins
    test_key = {**SECRET, "environment": "test"}
    assert envelope(await admin.post(KEYS, json=test_key), 201)["effectiveRateLimits"] == (
        _limits("10/s")
    )
    unlimited = envelope(await admin.post(KEYS, json={**SECRET, "rateLimits": []}), 201)
    assert unlimited["rateLimits"] == unlimited["effectiveRateLimits"] == []
    row = next(r for r in envelope(await admin.get(KEYS), 200) if r["id"] == plain["id"])
    assert row["effectiveRateLimits"] == _limits("1000/s", "50000/h")


async def _limit_events(admin: Caller, key_id: str) -> list[dict[str, object]]:
    query = f"{AUDIT}?keyId={key_id}&event=api_key.limits_changed"
    return [e["data"] for e in envelope(await admin.get(query), 200)]


async def test_patch_sets_resets_and_lifts_limits_audited(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=SECRET), 201)["id"]
    quota = {"remaining": 5, "refillAmount": 5, "refillInterval": "1h"}
    changed = await admin.patch(f"{KEYS}/{key}", json={"rateLimits": ["5/s"], "quota": quota})
    assert envelope(changed, 200)["effectiveRateLimits"] == _limits("5/s")
    again = envelope(await admin.patch(f"{KEYS}/{key}", json={"quota": quota}), 200)
    assert again["rateLimits"] == _limits("5/s")  # left out: stays
    lifted = await admin.patch(f"{KEYS}/{key}", json={"rateLimits": None, "quota": None})
    assert {f: envelope(lifted, 200)[f] for f in USAGE} == {
        "rateLimits": None,
        "effectiveRateLimits": _limits("1000/s", "50000/h"),
        "quota": None,
    }
    shown = {"remaining": 5, "refillAmount": 5, "refillInterval": "1h"}
    assert await _limit_events(admin, key) == [  # newest first
        {
            "from": {"rateLimits": _limits("5/s"), "quota": shown},
            "to": {"rateLimits": None, "quota": None},
        },
        {"from": {"quota": shown}, "to": {"quota": shown}},  # a reset
        {
            "from": {"rateLimits": None, "quota": None},
            "to": {"rateLimits": _limits("5/s"), "quota": shown},
        },
    ]
    unchanged = await admin.patch(f"{KEYS}/{key}", json={"rateLimits": None, "name": "x"})
    assert envelope(unchanged, 200)["name"] == "x"
    assert len(await _limit_events(admin, key)) == 3


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"rateLimits": ["100/s", "sk_live_notakey/s"]}, {"rateLimits[1]"}),
        ({"rateLimits": ["2/2d"]}, {"rateLimits[0]"}),
        ({"rateLimits": [{"limit": "1/s", "name": "bad name!"}]}, {"rateLimits[0]"}),
        ({"rateLimits": [{"limit": "1/s", "name": None}]}, {"rateLimits[0]"}),
        ({"rateLimits": ["1/m", "1/60s"]}, {"rateLimits"}),
        ({"rateLimits": ["1/s", "2/s", "3/s", "4/s", "5/s"]}, {"rateLimits"}),
        ({"rateLimits": "100/s"}, {"rateLimits"}),
        ({"quota": {"remaining": -1}}, {"quota.remaining"}),
        (
            {"quota": {"remaining": 1, "refillAmount": 1, "refillInterval": "367d"}},
            {"quota.refillInterval"},
        ),
        (
            {"quota": {"remaining": 1, "refillAmount": 0, "refillInterval": "1d"}},
            {"quota.refillAmount"},
        ),
        ({"quota": {"remaining": 1, "refillAmount": 5}}, {"quota"}),
        ({"quota": {"remaining": 1, "sk_live_secret": 5}}, {"quota"}),
        ({"quota": "sk_live_notakey"}, {"quota"}),
    ],
)
async def test_bad_limits_are_400s_naming_the_field_not_the_value(
    admin: Caller, body: dict[str, object], fields: set[str]
) -> None:
    key = envelope(await admin.post(KEYS, json=SECRET), 201)["id"]
    for response in (
        await admin.post(KEYS, json={**SECRET, **body}),
        await admin.patch(f"{KEYS}/{key}", json=body),
    ):
        error = envelope(response, 400, "VALIDATION_ERROR")
        assert {d["field"] for d in error["details"]} == fields
        assert "sk_live_" not in response.text and "bad name" not in response.text
    assert await _limit_events(admin, key) == []


async def test_a_limited_key_cannot_loosen_its_own_limits(guard: KeyGuard, admin: Caller) -> None:
    own = await guard.manager.create(
        account=admin.record.account,
        name="limited",
        environment="live",
        access="secret",
        rate_limits=["10/s"],
        quota={"remaining": 100},
    )
    limited = Caller(admin.client, own.value, own.record)
    mine = f"{KEYS}/{limited.id}"
    bodies: list[dict[str, object]] = [
        {"rateLimits": []},
        {"rateLimits": None},  # the default, 1000/s, is looser
        {"rateLimits": ["20/s"]},
        {"quota": {"remaining": 100}},  # a reset
        {"quota": None},
    ]
    for body in bodies:
        envelope(await limited.patch(mine, json=body), 403, "FORBIDDEN")
    tighter = await limited.patch(mine, json={"rateLimits": ["10/s", "100/m"]})
    assert envelope(tighter, 200)["rateLimits"] == _limits("10/s", "100/m")
    other = envelope(await limited.post(KEYS, json=SECRET), 201)["id"]
    lifted = await limited.patch(f"{KEYS}/{other}", json={"rateLimits": [], "quota": None})
    assert envelope(lifted, 200)["effectiveRateLimits"] == []  # another key: as any writer
    by_admin = await admin.patch(mine, json={"rateLimits": [], "quota": None})
    assert envelope(by_admin, 200)["quota"] is None


async def test_limits_need_api_keys_write_and_a_revoked_key_is_409(
    guard: KeyGuard, client: httpx.AsyncClient, admin: Caller
) -> None:
    reader = await make_caller(guard, client, admin.record.account, permissions=["api_keys:read"])
    key = envelope(await admin.post(KEYS, json=SECRET), 201)["id"]
    refused = await reader.patch(f"{KEYS}/{key}", json={"rateLimits": []})
    envelope(refused, 403, "FORBIDDEN")
    envelope(await admin.delete(f"{KEYS}/{key}"), 200)
    gone = await admin.patch(f"{KEYS}/{key}", json={"quota": {"remaining": 1}, "name": "n"})
    envelope(gone, 409, "CONFLICT")
    assert envelope(await admin.get(f"{KEYS}/{key}"), 200)["name"] == SECRET["name"]


async def test_the_audit_log_lists_limit_changes(admin: Caller) -> None:
    key = envelope(await admin.post(KEYS, json=SECRET), 201)["id"]
    envelope(await admin.patch(f"{KEYS}/{key}", json={"rateLimits": ["1/s"]}), 200)
    events = envelope(await admin.get(f"{AUDIT}?keyId={key}"), 200)
    assert [e["event"] for e in events] == ["api_key.limits_changed", "api_key.created"]
    assert events[0]["actor"] == admin.id

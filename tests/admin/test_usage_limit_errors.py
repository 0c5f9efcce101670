"""Usage limits the page refuses: each wrong field named beside it, as typed in the field but not
repeated in the error (a pasted key cut to prefix…last4), nothing changed; forged and foreign
posts refused; and a quota due a refill shown refilled."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from keyguard import KeyGuard
from keyguard.core import AuditEvent, AuditEventType, Quota, RateLimitDefaults
from keyguard.web.admin.event_words import limits_details
from keyguard.web.admin.usage_view import UsageView

from ._page import ADMIN, PageClient, field, key_ids

NOON = datetime(2030, 1, 1, 12, tzinfo=UTC)
DAY_MS = 86_400_000


def error_of(page: str, name: str) -> str:
    return page.split(f'id="{name}-error">')[1].split("<")[0]


# (what is typed, the field named, what its error says)
CASES: list[tuple[dict[str, str], str, str]] = [
    ({"rate_mode": "own", "rate_limits": "100/s 100/x"}, "rate_limits", "“100/x”: must be count"),
    ({"rate_mode": "own", "rate_limits": "1/s 2/m 3/h 4/d 5/s"}, "rate_limits", "at most 4"),
    ({"rate_mode": "own", "rate_limits": "a=1/s a=2/m"}, "rate_limits", "repeats the name"),
    ({"rate_mode": "own", "rate_limits": ""}, "rate_limits", "List at least one"),
    ({"rate_mode": "none", "rate_limits": "10/s"}, "rate_limits", "Choose “These limits”"),
    ({"rate_mode": "sometimes"}, "rate_limits", "Choose how"),
    ({"quota": "lots"}, "quota", "Must be a whole number"),
    ({"quota": "-1"}, "quota", "Must be a whole number"),
    ({"quota": "10000000000000"}, "quota", "Must be from 0 to 1000000000000"),
    ({"refill_amount": "5", "refill_interval": "1d"}, "quota", "clear the refill"),
    ({"quota": "5", "refill_amount": "10"}, "refill_amount", "an interval, or neither"),
    ({"quota": "5", "refill_amount": "0", "refill_interval": "1d"}, "refill_amount", "from 1"),
    ({"quota": "5", "refill_amount": "9", "refill_interval": "1y"}, "refill_interval", "1d"),
    ({"quota": "5", "refill_amount": "9", "refill_interval": "367d"}, "refill_interval", "366d"),
]


async def test_each_wrong_field_is_named_and_nothing_changes(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Server")
    for typed, name, says in CASES:
        answer = await carol.act(key_id, "limit", **{"rate_mode": "default", **typed})
        assert answer.status_code == 400, typed
        error = error_of(answer.text, name)
        assert says in error, (typed, error)
        assert f'{name}-hint {name}-error" aria-invalid="true"' in answer.text
        for key, value in typed.items():  # kept in its field, never in the error
            assert key == "rate_mode" or value in answer.text
            assert len(value) < 4 or value not in error, (value, error)
    record = await guard.manager.get(key_id)
    assert record.rate_limits is None and record.quota is None


async def test_the_new_key_form_names_them_too(carol: PageClient, guard: KeyGuard) -> None:
    form = await carol.get("/new")
    for typed, name, says in CASES[:1] + CASES[10:12]:
        data = {"access": "secret", "environment": "test", "label": "X", **typed}
        answer = await carol.submit(form.text, "/new", **data)
        assert answer.status_code == 400, typed
        assert says in error_of(answer.text, name)
        form = answer  # a fresh nonce comes with the form shown again
    both = {"permissions": "Orders:Write", "rate_mode": "own", "rate_limits": "1/x"}
    data = {"access": "secret", "environment": "test", "label": "X", **both}
    answer = await carol.submit(form.text, "/new", **data)
    assert answer.status_code == 400  # the manager checks one kind after the other
    assert "“Orders:Write”" in error_of(answer.text, "permissions")
    assert ">1/x</textarea>" in answer.text
    assert key_ids((await carol.get("")).text) == []  # nothing made either way


async def test_a_key_pasted_into_the_limits_is_not_repeated(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Server")
    pasted = (await guard.manager.create(
        account="acme", name="other", environment="test", access="secret"
    )).value  # fmt: skip
    answer = await carol.act(key_id, "limit", rate_mode="own", rate_limits=pasted)
    assert answer.status_code == 400
    said = error_of(answer.text, "rate_limits")
    assert pasted[-4:] in said and pasted[8:-4] not in said


async def test_only_the_keys_people_reach_and_only_with_the_token(
    carol: PageClient, person: Callable[[str], PageClient], guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Carol's")
    await guard.manager.limit(key_id, quota={"remaining": 5})
    before = await guard.manager.get(key_id)
    for action in ("limit", "reset-quota"):
        forged = await carol.http.post(
            f"{ADMIN}/keys/{key_id}/{action}", data={"csrf": "forged", "rate_mode": "none"}
        )
        assert forged.status_code == 403
        page = (await carol.get(f"/keys/{key_id}")).text
        elsewhere = await carol.http.post(
            f"{ADMIN}/keys/{key_id}/{action}",
            data={"csrf": field(page, "csrf"), "rate_mode": "none"},
            headers={"origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        for name in ("eve", "alice"):  # another account; someone limited to their own keys
            other = person(name)
            form = await other.get("/new")
            answer = await other.submit(form.text, f"/keys/{key_id}/{action}", rate_mode="none")
            assert answer.status_code == 404
        assert (await carol.get(f"/keys/{key_id}/{action}")).status_code == 405
    assert await guard.manager.get(key_id) == before


async def test_a_revoked_keys_limits_stay_as_they_were(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Gone")
    await guard.manager.limit(key_id, quota={"remaining": 5})
    page = (await carol.get(f"/keys/{key_id}")).text
    await carol.act(key_id, "revoke")
    revoked = (await carol.get(f"/keys/{key_id}")).text
    assert f"/keys/{key_id}/limit" not in revoked and "Reset quota" not in revoked
    assert "5 requests left" in revoked  # still said, no longer changeable
    for action in ("limit", "reset-quota"):
        answer = await carol.submit(page, f"/keys/{key_id}/{action}", rate_mode="none")
        assert answer.status_code == 409
    record = await guard.manager.get(key_id)
    assert record.rate_limits is None and record.quota is not None


async def test_a_quota_due_a_refill_shows_refilled(guard: KeyGuard) -> None:
    made = await guard.manager.create(account="acme", name="m", environment="test", access="secret")
    quota = Quota(3, 1000, DAY_MS, refilled_at_ms=int(NOON.timestamp() * 1000))
    record = dataclasses.replace(made.record, quota=quota)
    defaults = RateLimitDefaults({}, ["test"])
    before = UsageView.of(record, defaults, NOON + timedelta(hours=23))
    assert before.quota is not None and before.quota.remaining == 3
    assert before.next_refill == NOON + timedelta(days=1)
    after = UsageView.of(record, defaults, NOON + timedelta(days=2, hours=1))
    assert after.quota is not None and after.quota.remaining == 1000
    assert after.next_refill == NOON + timedelta(days=3)  # on the grid of the first
    assert after.refill == "1000 every 1d" and after.reset_to == 1000


def test_limits_changed_words_for_any_shape() -> None:
    def words(data: dict[str, object]) -> str | None:
        kind = AuditEventType.LIMITS_CHANGED
        event = AuditEvent(
            id="e",
            event=kind,
            account="acme",
            key_id="k",
            actor="system",
            request_id=None,
            occurred_at=NOON,
            data=data,
        )
        return limits_details(event)

    assert words({}) is None  # not the shape it writes: the page shows nothing, not an error
    assert words({"from": {"rateLimits": None}, "to": {"rateLimits": []}}) == (
        "rate limits from default to none"
    )
    assert words({"from": {"quota": None}, "to": {"quota": "odd"}}) == "quota from none to none"

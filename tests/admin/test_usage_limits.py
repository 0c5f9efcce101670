"""A key's usage limits on the page: said in words (its own, the settings' default for its type,
none; its quota as of now), changed through the key's "Usage limits" form (audited, naming the
person, the quota left alone unless it was changed), reset with its own button, set on the
new-key form, and marked in the list."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from keyguard import AuditQuery, KeyGuard, Settings
from keyguard.core import AuditEventType

from ..conftest import TEST_PEPPER
from ._page import ADMIN, PageClient, field, key_ids

# Publishable keys have a default here; secret keys none: both ways of saying a default.
DEFAULTS = {"pk": "100/s,5000/h"}


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/keys.db",
        pepper=TEST_PEPPER,
        default_rate_limits=DEFAULTS,
    )
    guard = KeyGuard(settings)
    await guard.start()
    yield guard
    await guard.stop()


def said(page: str, what: str) -> str:
    """What the key's details say of its rate limits (`rate-limits`) or its quota (`quota`)."""
    found = re.search(f'id="{what}-said">([^<]*)<', page)
    assert found, f"the page says nothing of {what}"
    return html.unescape(found.group(1))


async def save_usage(carol: PageClient, key_id: str, **typed: str) -> httpx.Response:
    """The key's Usage limits form, sent with `typed` (the quota as the page showed it)."""
    page = (await carol.get(f"/keys/{key_id}")).text
    fields = {"rate_mode": "default", "quota_was": field(page, "quota_was"), **typed}
    return await carol.submit(page, f"/keys/{key_id}/limit", **fields)


async def activity(carol: PageClient, key_id: str) -> str:
    page = (await carol.get(f"/keys/{key_id}")).text
    return html.unescape(page.split('id="events-title"')[1])


async def test_rate_limits_in_words_own_default_or_none(carol: PageClient, guard: KeyGuard) -> None:
    secret_id, _ = await carol.create("Server")
    widget_id, _ = await carol.create("Widget", access="publishable")
    secret = (await carol.get(f"/keys/{secret_id}")).text
    assert said(secret, "rate-limits") == "Default: no rate limit"
    assert said(secret, "quota") == "No quota"
    assert 'name="rate_mode" value="default" checked' in secret
    widget = (await carol.get(f"/keys/{widget_id}")).text
    assert said(widget, "rate-limits") == "Default: 100/s, 5000/h"
    assert "Use the default: 100/s, 5000/h" in widget
    assert "Limited</span>" not in (await carol.get("")).text  # a default is no mark

    await guard.manager.limit(widget_id, rate_limits=["10/s", {"limit": "50/m", "name": "m"}])
    widget = (await carol.get(f"/keys/{widget_id}")).text
    assert said(widget, "rate-limits") == "10/s, 50/m (m)"
    assert 'name="rate_mode" value="own" checked' in widget
    assert ">10/s\nm=50/m</textarea>" in widget  # as the form writes them back
    await guard.manager.limit(widget_id, rate_limits=[])
    widget = (await carol.get(f"/keys/{widget_id}")).text
    assert said(widget, "rate-limits") == "No rate limit"
    assert 'name="rate_mode" value="none" checked' in widget


async def test_a_quota_in_words_with_its_refill(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Metered")
    quota = {"remaining": 5, "refillAmount": 1000, "refillInterval": "1d"}
    await guard.manager.limit(key_id, quota=quota)
    page = (await carol.get(f"/keys/{key_id}")).text
    words = said(page, "quota")
    assert words.startswith("5 requests left; refills to 1000 every 1d, next 20"), words
    assert words.endswith(" UTC")
    assert 'name="quota" type="text" value="5"' in page
    assert 'name="refill_interval" type="text" value="1d"' in page
    assert "Reset quota" in page and "sets the requests left to 1000" in page
    row = (await carol.get("")).text.split(f"/keys/{key_id}")[1].split("</tr>")[0]
    assert "Limited</span>" in row
    await guard.manager.limit(key_id, quota={"remaining": 7})
    page = (await carol.get(f"/keys/{key_id}")).text
    assert said(page, "quota") == "7 requests left; never refills"


async def test_limits_and_a_quota_set_through_the_form_are_audited(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Server")
    answer = await save_usage(
        carol,
        key_id,
        rate_mode="own",
        rate_limits="100/s, burst=20/10s\n5000/h",
        quota="1,000",
        refill_amount="1000",
        refill_interval="1d",
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{ADMIN}/keys/{key_id}?done=limited"
    record = await guard.manager.get(key_id)
    assert record.rate_limits is not None
    assert [(lim.text, lim.name) for lim in record.rate_limits] == [
        ("100/s", "100/s"),
        ("20/10s", "burst"),
        ("5000/h", "5000/h"),
    ]
    assert record.quota is not None
    assert (record.quota.remaining, record.quota.refill_amount) == (1000, 1000)
    assert record.quota.refill_interval_ms == 86_400_000
    events = (await guard.manager.audit(AuditQuery(account="acme", key_id=key_id))).items
    assert (events[0].event, events[0].actor) == (AuditEventType.LIMITS_CHANGED, "person:carol")
    page = (await carol.http.get(answer.headers["location"])).text
    assert "Usage limits saved." in page
    words = await activity(carol, key_id)
    assert "<td>Usage limits changed</td>" in words
    assert "rate limits from default to 100/s, 20/10s (burst), 5000/h" in words
    assert "quota from none to 1000, refilled to 1000 every 1d" in words


async def test_saving_rate_limits_leaves_the_quota_alone(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Server")
    await guard.manager.limit(key_id, quota={"remaining": 40})
    before = (await guard.manager.get(key_id)).quota
    answer = await save_usage(carol, key_id, rate_mode="none", quota="40")
    assert answer.headers["location"].endswith("done=limited")
    record = await guard.manager.get(key_id)
    assert record.rate_limits == () and record.quota == before  # not set anew: not reset
    same = await save_usage(carol, key_id, rate_mode="none", quota="40")
    assert same.headers["location"].endswith("done=limits-unchanged")
    back = await save_usage(carol, key_id, rate_mode="default", quota="")
    assert back.headers["location"].endswith("done=limited")
    record = await guard.manager.get(key_id)
    assert record.rate_limits is None and record.quota is None
    words = await activity(carol, key_id)
    assert "rate limits from none to default; quota from 40 to none" in words
    assert "rate limits from default to none" in words


async def test_reset_quota_starts_it_over(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Metered")
    await guard.manager.limit(
        key_id, quota={"remaining": 3, "refillAmount": 10, "refillInterval": "1h"}
    )
    before = (await guard.manager.get(key_id)).quota
    assert before is not None
    answer = await carol.act(key_id, "reset-quota")
    assert answer.headers["location"] == f"{ADMIN}/keys/{key_id}?done=quota-reset"
    after = (await guard.manager.get(key_id)).quota
    assert after is not None and after.set_at_ms > before.set_at_ms
    assert (after.remaining, after.refill_amount, after.refill_interval_ms) == (10, 10, 3_600_000)
    page = (await carol.http.get(answer.headers["location"])).text
    assert "Quota reset." in page
    assert said(page, "quota").startswith("10 requests left; refills to 10 every 1h")
    assert "quota from 3, refilled to 10 every 1h to 10, refilled to 10 every 1h" in page
    again = await carol.act(key_id, "reset-quota")
    assert again.status_code == 303
    assert "quota reset to 10, refilled to 10 every 1h" in await activity(carol, key_id)
    unmetered, _ = await carol.create("Unmetered")
    page = (await carol.get(f"/keys/{unmetered}")).text
    assert "Reset quota" not in page
    refused = await carol.submit(page, f"/keys/{unmetered}/reset-quota")
    assert refused.status_code == 409 and "no quota to reset" in refused.text


async def test_a_new_key_made_with_limits(carol: PageClient, guard: KeyGuard) -> None:
    form = await carol.get("/new")
    assert 'name="rate_mode" value="default" checked' in form.text
    answer = await carol.submit(
        form.text,
        "/new",
        access="secret",
        environment="test",
        label="Batch",
        rate_mode="own",
        rate_limits="10/s",
        quota="500",
    )
    assert answer.status_code == 201, answer.text
    record = await guard.manager.get(key_ids(answer.text)[0])
    assert record.rate_limits is not None
    assert [lim.text for lim in record.rate_limits] == ["10/s"]
    assert record.quota is not None and record.quota.remaining == 500
    assert record.quota.refill_amount is None
    assert said(answer.text, "rate-limits") == "10/s"  # the one-time dialog says them too
    assert said(answer.text, "quota") == "500 requests left; never refills"
    assert "Limited</span>" in (await carol.get("")).text

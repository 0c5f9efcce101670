"""Every flow of the page over HTTP: create (the value once), rename, revoke (refused by the API
at once), delete after revoke, roll, with the audit log naming the person."""

from __future__ import annotations

import httpx

from keyguard import AuditQuery, KeyGuard, KeyQuery
from keyguard.services import LeakReports

from ._page import PageClient, field, key_ids
from .conftest import one_secret_per_owner


def _bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


async def test_a_new_keys_value_is_shown_once_and_never_again(
    carol: PageClient, api: httpx.AsyncClient
) -> None:
    form = await carol.get("/new")
    created = await carol.submit(
        form.text, "/new", access="secret", environment="test", label="Checkout"
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    key_id = key_ids(created.text)[0]
    value = created.text.split('id="key-value">')[1].split("<")[0]
    assert value.startswith("sk_test_")
    assert value not in created.headers.get("set-cookie", "")
    assert (await api.get("/v1/me", headers=_bearer(value))).status_code == 200
    later = [await carol.get(""), await carol.get(f"/keys/{key_id}"), await carol.get("/new")]
    for page in later:
        assert page.status_code == 200
        assert value not in page.text
        assert value[:-4] not in page.text  # not even most of it
    # The browser sends the same form again (reload, back): nothing new, nothing shown.
    again = await carol.submit(
        form.text, "/new", access="secret", environment="test", label="Checkout"
    )
    assert again.status_code == 303
    assert "done=already-created" in again.headers["location"]
    assert value not in again.text
    assert len(key_ids((await carol.get("")).text)) == 1


async def test_the_form_says_what_is_wrong_beside_the_field(carol: PageClient) -> None:
    form = await carol.get("/new")
    for label, message in [("", "1-100"), ("x" * 101, "1-100")]:
        answer = await carol.submit(
            form.text, "/new", access="secret", environment="test", label=label
        )
        assert answer.status_code == 400
        assert 'aria-invalid="true"' in answer.text
        error = answer.text.split('id="label-error">')[1].split("<")[0]
        assert message in error or "character" in error, error
        form = answer  # a fresh nonce comes with the form shown again
    answer = await carol.submit(form.text, "/new", access="root", environment="test", label="x")
    assert answer.status_code == 400
    assert 'id="access-error"' in answer.text
    assert key_ids((await carol.get("")).text) == []


async def test_one_secret_key_per_owner_says_to_revoke_the_first(
    carol: PageClient, guard: KeyGuard
) -> None:
    await one_secret_per_owner(guard, "acme")
    first, _ = await carol.create("First")
    form = await carol.get("/new")
    answer = await carol.submit(form.text, "/new", access="secret", environment="test", label="2")
    assert answer.status_code == 409
    assert "revoke the current one first" in answer.text
    await carol.create("Browser", access="publishable")  # publishable keys are not limited
    assert (await carol.act(first, "revoke")).status_code == 303
    await carol.create("Second")


async def test_rename_and_the_activity_names_the_person(carol: PageClient) -> None:
    key_id, _ = await carol.create("Old name")
    bad = await carol.act(key_id, "rename", label="")
    assert bad.status_code == 400
    assert 'id="label-error"' in bad.text
    done = await carol.act(key_id, "rename", label="New name")
    assert done.status_code == 303
    page = await carol.get(f"/keys/{key_id}")
    assert "<h1>New name" in page.text
    assert "Label saved." in (await carol.http.get(done.headers["location"])).text
    assert "Renamed" in page.text
    assert "person:carol" in page.text
    assert "“Old name”" in page.text


async def test_a_revoke_from_the_page_is_refused_by_the_api_at_once(
    carol: PageClient, api: httpx.AsyncClient, guard: KeyGuard
) -> None:
    key_id, value = await carol.create("Doomed")
    assert (await api.get("/v1/me", headers=_bearer(value))).status_code == 200  # now cached
    confirm = await carol.get(f"/keys/{key_id}/revoke")
    assert "cannot be undone" in confirm.text
    assert "Doomed" in confirm.text
    assert (await api.get("/v1/me", headers=_bearer(value))).status_code == 200  # GET: no change
    answer = await carol.submit(confirm.text, f"/keys/{key_id}/revoke")
    assert answer.status_code == 303
    assert (await api.get("/v1/me", headers=_bearer(value))).status_code == 401
    events = (await guard.manager.audit(AuditQuery(account="acme", key_id=key_id))).items
    newest = events[0]
    assert (newest.event.value, newest.actor) == ("api_key.revoked", "person:carol")


async def test_delete_only_after_revoke(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Short-lived")
    page = await carol.get(f"/keys/{key_id}")
    assert f"/keys/{key_id}/delete" not in page.text
    assert (await carol.get(f"/keys/{key_id}/delete")).status_code == 409
    early = await carol.submit(page.text, f"/keys/{key_id}/delete")
    assert early.status_code == 409
    assert (await guard.manager.get(key_id)).revoked_at is None
    await carol.act(key_id, "revoke")
    assert f"/keys/{key_id}/delete" in (await carol.get(f"/keys/{key_id}")).text
    answer = await carol.act(key_id, "delete")
    assert answer.status_code == 303
    assert "done=deleted" in answer.headers["location"]
    assert (await carol.get(f"/keys/{key_id}")).status_code == 404
    assert key_ids((await carol.get("")).text) == []


async def test_roll_shows_the_new_value_once_and_both_keys_work_in_the_grace(
    carol: PageClient, api: httpx.AsyncClient, guard: KeyGuard
) -> None:
    old_id, old_value = await carol.create("Rolling")
    form = await carol.get(f"/keys/{old_id}")
    rolled = await carol.submit(form.text, f"/keys/{old_id}/roll", grace="24h")
    assert rolled.status_code == 201
    new_value = rolled.text.split('id="key-value">')[1].split("<")[0]
    assert "keeps working until" in rolled.text
    for value in (old_value, new_value):
        assert (await api.get("/v1/me", headers=_bearer(value))).status_code == 200
    old_page = await carol.get(f"/keys/{old_id}")
    assert "Rolling until" in old_page.text
    new_id = (await guard.manager.get(old_id)).replaced_by
    assert new_id is not None and f"/keys/{new_id}" in old_page.text
    assert new_value not in old_page.text
    new_page = await carol.get(f"/keys/{new_id}")
    assert f"/keys/{old_id}" in new_page.text  # both last-used times, side by side
    assert "Last used" in new_page.text
    again = await carol.submit(form.text, f"/keys/{old_id}/roll", grace="24h")  # a reload
    assert again.status_code == 303 and "already-rolled" in again.headers["location"]
    assert new_value not in again.text
    odd = await carol.submit(old_page.text, f"/keys/{new_id}/roll", grace="10y")
    assert odd.status_code == 400
    listed = await guard.manager.list(KeyQuery(account="acme"))
    assert len(listed.items) == 2


async def test_the_page_form_carries_a_nonce_per_form(carol: PageClient) -> None:
    first, second = await carol.get("/new"), await carol.get("/new")
    assert field(first.text, "nonce") != field(second.text, "nonce")
    assert field(first.text, "csrf") == field(second.text, "csrf")


async def test_a_reported_leak_shows_where_it_was_found_as_text(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, value = await carol.create("Pushed")
    where = "https://github.com/o/r/blob/1/a.py#<script>alert(1)</script>"
    found = await LeakReports(guard.manager).report(
        value, where=where, source="content", request_id=None
    )
    assert found == (key_id, "revoked")
    page = await carol.get(f"/keys/{key_id}")
    assert "Reported leaked" in page.text
    assert "found at https://github.com/o/r/blob/1/a.py#&lt;script&gt;" in page.text
    assert "revoked at once" in page.text
    assert "<script>alert" not in page.text

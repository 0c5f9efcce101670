"""The page's defences: CSRF and origin checks, headers on every answer, escaping, and reach
(another account's key is the same 404 as none; live keys stay out of reach when they should)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from keyguard import KeyGuard
from keyguard.web.admin.render import CONTENT_SECURITY_POLICY

from ._page import ADMIN, PageClient, key_ids

CONTENT_TYPE_FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def test_the_policy_allows_no_inline_code_and_no_other_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY


async def test_every_answer_carries_the_headers(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Headers")
    http = carol.http
    answers = {
        "list": await carol.get(""),
        "new": await carol.get("/new"),
        "key": await carol.get(f"/keys/{key_id}"),
        "confirm": await carol.get(f"/keys/{key_id}/revoke"),
        "unknown page": await carol.get("/nowhere"),
        "wrong method": await http.put(ADMIN + "/new"),
        "stylesheet": await carol.get("/static/admin.css"),
        "script": await carol.get("/static/admin.js"),
        "missing file": await carol.get("/static/nothing.css"),
        "signed out": await http.get(ADMIN, headers={"x-test-person": ""}),
        "bad filter": await carol.get("", status="nonsense"),
    }
    for name, answer in answers.items():
        for header, value in SECURITY_HEADERS.items():
            assert answer.headers.get(header) == value, (name, header)
        static = name in ("stylesheet", "script", "missing file")
        assert answer.headers["cache-control"] == ("no-cache" if static else "no-store"), name
    assert answers["wrong method"].status_code == 405
    assert set(answers["wrong method"].headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert answers["missing file"].status_code == 404
    assert answers["unknown page"].status_code == 404
    assert answers["unknown page"].headers["content-type"].startswith("text/html")


async def test_no_page_has_inline_script_or_style(carol: PageClient) -> None:
    key_id, _ = await carol.create("Inline")
    for path in ("", "/new", f"/keys/{key_id}", f"/keys/{key_id}/revoke"):
        page = (await carol.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r"\son[a-z]+=", page), path  # no event handler attributes
        assert "style=" not in page and "<style" not in page, path


async def test_a_post_without_the_csrf_token_changes_nothing(
    carol: PageClient, person: Callable[[str], PageClient], guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Target")
    revoke = f"{ADMIN}/keys/{key_id}/revoke"
    dave = person("carol")  # carol in another browser: another session, another token
    other_token = (await dave.get("/new")).text.split('name="csrf" value="')[1].split('"')[0]
    for data in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": other_token}):
        answer = await carol.http.post(revoke, data=data)
        assert answer.status_code == 403, data
        assert "Reload the page" in answer.text
    assert (await guard.manager.get(key_id)).revoked_at is None


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://attacker.test"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
async def test_a_post_from_another_origin_changes_nothing(
    carol: PageClient, guard: KeyGuard, headers: dict[str, str]
) -> None:
    key_id, _ = await carol.create("Target")
    page = await carol.get(f"/keys/{key_id}")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = await carol.http.post(
        f"{ADMIN}/keys/{key_id}/revoke", data={"csrf": token}, headers=headers
    )
    assert answer.status_code == 403
    assert (await guard.manager.get(key_id)).revoked_at is None


async def test_oversized_and_overfull_forms_are_refused_unread(carol: PageClient) -> None:
    page = await carol.get("/new")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    big = await carol.http.post(ADMIN + "/new", data={"csrf": token, "label": "x" * 10_000})
    assert big.status_code == 413
    many = {"csrf": token, **{f"f{i}": "1" for i in range(30)}}
    assert (await carol.http.post(ADMIN + "/new", data=many)).status_code == 400


async def test_another_accounts_key_is_the_same_404_as_no_key(
    carol: PageClient, person: Callable[[str], PageClient]
) -> None:
    key_id, _ = await carol.create("Acme's")
    eve = person("eve")
    unknown = "key_" + "0" * 26
    for path in ("/keys/{}", "/keys/{}/revoke", "/keys/{}/delete"):
        theirs, nothing = await eve.get(path.format(key_id)), await eve.get(path.format(unknown))
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text == nothing.text
    page = await eve.get("/new")
    answer = await eve.submit(page.text, f"/keys/{key_id}/revoke")
    assert answer.status_code == 404
    assert key_ids((await eve.get("")).text) == []
    assert (await eve.get("/keys/not-an-id")).status_code == 404


async def test_a_person_without_live_sees_and_touches_test_keys_only(
    carol: PageClient, person: Callable[[str], PageClient]
) -> None:
    live_id, _ = await carol.create("Live one", environment="live")
    test_id, _ = await carol.create("Test one", environment="test")
    bob = person("bob")
    assert key_ids((await bob.get("")).text) == [test_id]
    assert key_ids((await bob.get("", environment="live")).text) == []
    assert (await bob.get(f"/keys/{live_id}")).status_code == 404
    form = await bob.get("/new")
    assert 'value="live"' not in form.text
    answer = await bob.submit(form.text, "/new", access="secret", environment="live", label="x")
    assert answer.status_code == 400
    assert 'id="environment-error"' in answer.text


async def test_own_keys_only_hides_everyone_elses(
    carol: PageClient, person: Callable[[str], PageClient]
) -> None:
    carols, _ = await carol.create("Carol's")
    alice = person("alice")
    alices, _ = await alice.create("Alice's")
    assert key_ids((await alice.get("")).text) == [alices]
    assert (await alice.get(f"/keys/{carols}")).status_code == 404
    assert set(key_ids((await carol.get("")).text)) == {carols, alices}


async def test_what_people_type_shows_as_text(carol: PageClient) -> None:
    label = "<script>alert(1)</script>"
    key_id, _ = await carol.create(label)
    await carol.act(key_id, "rename", label=label + "!")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = [
        await carol.get(""),
        await carol.get(f"/keys/{key_id}"),
        await carol.get(f"/keys/{key_id}/revoke"),
        await carol.get("", q=label),
    ]
    for page in pages:
        assert "<script>alert" not in page.text
        assert escaped in page.text


async def test_get_never_changes_anything(carol: PageClient, guard: KeyGuard) -> None:
    key_id, _ = await carol.create("Stays")
    for path in ("/keys/{}/revoke", "/keys/{}/delete", "/keys/{}/roll", "/keys/{}/rename"):
        answer = await carol.get(path.format(key_id))
        assert answer.status_code in (200, 405, 409)
    record = await guard.manager.get(key_id)
    assert record.revoked_at is None and record.replaced_by is None and record.name == "Stays"


async def test_the_api_still_wants_a_key_beside_the_page(api: httpx.AsyncClient) -> None:
    """Mounting the page opens the page's paths, and only those."""
    assert (await api.get("/v1/me")).status_code == 401
    assert (await api.get("/admin-not/x")).status_code == 401
    assert (await api.get("/admin")).status_code in (303, 401)  # the page's own sign-in


async def test_forms_without_their_nonce_or_length_are_refused(carol: PageClient) -> None:
    key_id, _ = await carol.create("Form")
    page = await carol.get(f"/keys/{key_id}")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    for action in ("/new", f"/keys/{key_id}/roll"):
        data = {"csrf": token, "grace": "24h", "label": "x", "access": "secret"}
        answer = await carol.http.post(ADMIN + action, data={**data, "environment": "test"})
        assert answer.status_code == 400, action
        assert "incomplete" in answer.text

    async def chunks() -> AsyncIterator[bytes]:
        yield f"csrf={token}".encode()

    streamed = await carol.http.post(
        ADMIN + "/new", content=chunks(), headers={"content-type": CONTENT_TYPE_FORM}
    )
    assert streamed.status_code == 411
    assert (await carol.get("", q="nul\x00")).status_code == 400

"""Restricted keys on the page: created with permissions and a list of places, shown in words
("Works from anywhere" when there is no list), changed through the key's page (audited, naming
the person), refused as typed beside the field, and the refusals of misplaced keys in the
activity as text."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from keyguard import AuditQuery, KeyGuard
from keyguard.core import AuditEventType

from ._page import ADMIN, PageClient, key_ids

NOT_RESTRICTED = "Not restricted: every route its access allows"
ANYWHERE = "Works from anywhere"


async def new_key(carol: PageClient, access: str = "secret", **fields: str) -> httpx.Response:
    form = await carol.get("/new")
    data = {"access": access, "environment": "test", "label": "Limited", **fields}
    return await carol.submit(form.text, "/new", **data)


def error_of(page: str, field: str) -> str:
    return page.split(f'id="{field}-error">')[1].split("<")[0]


async def test_a_secret_key_made_with_permissions_and_networks(
    carol: PageClient, guard: KeyGuard
) -> None:
    permissions = "orders:read, orders:write\nproducts:*"
    answer = await new_key(carol, permissions=permissions, networks="10.0.0.0/8\n\n2001:db8::/32")
    assert answer.status_code == 201, answer.text
    key_id = key_ids(answer.text)[0]
    record = await guard.manager.get(key_id)
    assert record.permissions == frozenset({"orders:read", "orders:write", "products:*"})
    assert record.allowed_networks == ("10.0.0.0/8", "2001:db8::/32")
    assert record.allowed_origins is None
    assert "Works from these networks only" in answer.text  # the one-time dialog says so too
    page = (await carol.get(f"/keys/{key_id}")).text
    for shown in (
        "<code>orders:write</code>",
        "<code>products:*</code>",
        "<code>10.0.0.0/8</code>",
    ):
        assert shown in page
    assert "Works from these networks only" in page and ANYWHERE not in page
    assert 'name="origins"' not in page  # a secret key's form has networks only
    assert ">10.0.0.0/8\n2001:db8::/32</textarea>" in page
    assert "Restricted</span>" in (await carol.get("")).text


async def test_a_publishable_key_limited_to_one_origin(carol: PageClient, guard: KeyGuard) -> None:
    answer = await new_key(carol, "publishable", origins="HTTPS://Shop.Example.com:443")
    assert answer.status_code == 201, answer.text
    record = await guard.manager.get(key_ids(answer.text)[0])
    assert record.allowed_origins == ("https://shop.example.com",)
    assert record.permissions is None
    page = (await carol.get(f"/keys/{record.id}")).text
    assert "Works from these origins only" in page
    assert "<code>https://shop.example.com</code>" in page
    assert NOT_RESTRICTED in page
    assert 'name="networks"' not in page


async def test_an_unrestricted_key_says_it_works_from_anywhere(carol: PageClient) -> None:
    for access, noun in (("secret", "networks"), ("publishable", "origins")):
        key_id, _ = await carol.create(f"Open {access}", access=access)
        page = (await carol.get(f"/keys/{key_id}")).text
        assert NOT_RESTRICTED in page
        assert f"{ANYWHERE}: no allowed {noun} are set" in page
    assert "Restricted</span>" not in (await carol.get("")).text


async def test_a_key_that_may_do_nothing(carol: PageClient, guard: KeyGuard) -> None:
    answer = await new_key(carol, nothing="on")
    assert answer.status_code == 201, answer.text
    record = await guard.manager.get(key_ids(answer.text)[0])
    assert record.permissions == frozenset()
    page = (await carol.get(f"/keys/{record.id}")).text
    assert "None: this key may do nothing" in page
    assert 'name="nothing" value="on" checked' in page  # saving the form again keeps it so
    both = await new_key(carol, permissions="orders:read", nothing="on")
    assert both.status_code == 400
    assert "not both" in error_of(both.text, "permissions")


async def test_each_wrong_entry_is_named_beside_its_field_and_kept(
    carol: PageClient, guard: KeyGuard
) -> None:
    cases = [
        ("secret", {"permissions": "orders:read Orders:Write"}, "permissions", "“Orders:Write”"),
        ("secret", {"networks": "10.0.0.1/8"}, "networks", "no host bits set"),
        ("secret", {"origins": "https://shop.example.com"}, "origins", "publishable keys only"),
        ("publishable", {"origins": "shop.example.com"}, "origins", "“shop.example.com”"),
        ("publishable", {"origins": "https://*.com"}, "origins", "below a domain"),
        ("publishable", {"networks": "10.0.0.0/8"}, "networks", "secret keys only"),
    ]
    for access, fields, field, said in cases:
        answer = await new_key(carol, access, **fields)
        assert answer.status_code == 400, (fields, answer.text)
        assert said in error_of(answer.text, field), fields
        assert f'{field}-hint {field}-error" aria-invalid="true"' in answer.text
        typed = next(iter(fields.values()))
        assert f">{typed}</textarea>" in answer.text  # kept as typed
        assert 'value="Limited"' in answer.text
    many = " ".join(f"r{i}:read" for i in range(65))
    assert "at most 64" in error_of((await new_key(carol, permissions=many)).text, "permissions")
    assert key_ids((await carol.get("")).text) == []


async def test_changing_them_on_the_keys_page_is_audited(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Widget", access="publishable")
    answer = await carol.act(
        key_id, "restrict", permissions="products:read", origins="https://shop.example.com"
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{ADMIN}/keys/{key_id}?done=restricted"
    record = await guard.manager.get(key_id)
    assert record.permissions == frozenset({"products:read"})
    assert record.allowed_origins == ("https://shop.example.com",)
    events = (await guard.manager.audit(AuditQuery(account="acme", key_id=key_id))).items
    assert (events[0].event, events[0].actor) == (
        AuditEventType.PERMISSIONS_CHANGED,
        "person:carol",
    )
    page = (await carol.http.get(answer.headers["location"])).text
    assert "Restrictions saved." in page
    assert "Restrictions changed" in page
    assert "permissions from not restricted to products:read" in page
    assert "allowed origins from anywhere to https://shop.example.com" in page
    lifted = await carol.act(key_id, "restrict", permissions="", origins="")
    assert lifted.status_code == 303
    record = await guard.manager.get(key_id)
    assert record.permissions is None and record.allowed_origins is None
    same = await carol.act(key_id, "restrict", permissions="", origins="")
    assert same.headers["location"].endswith("done=unchanged")
    events = (await guard.manager.audit(AuditQuery(account="acme", key_id=key_id))).items
    assert [e.event for e in events].count(AuditEventType.PERMISSIONS_CHANGED) == 2


async def test_a_wrong_change_is_shown_as_typed_and_changes_nothing(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Server")
    await carol.act(key_id, "restrict", permissions="orders:read")
    answer = await carol.act(
        key_id, "restrict", permissions="orders:read", networks="10.0.0.0/8\n<b>lan</b>"
    )
    assert answer.status_code == 400
    error = error_of(answer.text, "networks")
    assert "“&lt;b&gt;lan&lt;/b&gt;”: must be a CIDR range" in error
    assert "<b>lan</b>" not in answer.text
    assert ">10.0.0.0/8\n&lt;b&gt;lan&lt;/b&gt;</textarea>" in answer.text
    both = await carol.act(key_id, "restrict", permissions="orders:write", nothing="on")
    assert both.status_code == 400 and 'id="permissions-error"' in both.text
    record = await guard.manager.get(key_id)
    assert record.permissions == frozenset({"orders:read"}) and record.allowed_networks is None


async def test_a_revoked_keys_restrictions_stay_as_they_were(
    carol: PageClient, guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Gone")
    page = await carol.get(f"/keys/{key_id}")
    await carol.act(key_id, "revoke")
    revoked = (await carol.get(f"/keys/{key_id}")).text
    assert f"/keys/{key_id}/restrict" not in revoked
    assert NOT_RESTRICTED in revoked  # still said, no longer changeable
    answer = await carol.submit(page.text, f"/keys/{key_id}/restrict", permissions="orders:read")
    assert answer.status_code == 409
    assert (await guard.manager.get(key_id)).permissions is None


async def test_only_the_keys_people_reach_and_only_with_the_token(
    carol: PageClient, person: Callable[[str], PageClient], guard: KeyGuard
) -> None:
    key_id, _ = await carol.create("Carol's")
    page = await carol.get(f"/keys/{key_id}")
    forged = await carol.http.post(
        f"{ADMIN}/keys/{key_id}/restrict", data={"csrf": "forged", "permissions": "a:b"}
    )
    assert forged.status_code == 403
    for name in ("eve", "alice"):  # another account; someone limited to their own keys
        other = person(name)
        form = await other.get("/new")
        answer = await other.submit(form.text, f"/keys/{key_id}/restrict", permissions="a:b")
        assert answer.status_code == 404
    assert (await carol.get(f"/keys/{key_id}/restrict")).status_code == 405
    assert (await guard.manager.get(key_id)).permissions is None
    assert page.status_code == 200


async def test_refusals_show_in_the_activity_as_text(carol: PageClient, guard: KeyGuard) -> None:
    secret_id, _ = await carol.create("Server")
    widget_id, _ = await carol.create("Widget", access="publishable")
    secret, widget = await guard.manager.get(secret_id), await guard.manager.get(widget_id)
    log = guard.refusal_log
    evil = "https://evil.example<script>alert(1)</script>"
    assert await log.write(widget, AuditEventType.REFUSED_ORIGIN, {"origin": evil}, None)
    assert await log.write(secret, AuditEventType.REFUSED_NETWORK, {"client": "203.0.113.9"}, None)
    browser = {"signal": "sec-fetch-site: cross-site"}
    assert await log.write(secret, AuditEventType.REFUSED_BROWSER, browser, None)
    page = (await carol.get(f"/keys/{widget_id}")).text
    assert "<td>Refused</td>" in page
    assert "used from https://evil.example&lt;script&gt;alert(1)&lt;/script&gt;, not an" in page
    assert "<script>alert" not in page
    page = (await carol.get(f"/keys/{secret_id}")).text
    assert "used from 203.0.113.9, not an allowed network" in page
    assert "a secret key sent from a browser (it sent sec-fetch-site: cross-site)" in page


async def test_a_key_pasted_into_a_list_is_not_repeated_in_the_error(
    carol: PageClient, guard: KeyGuard
) -> None:
    pasted = (await guard.manager.create(
        account="acme", name="other", environment="test", access="secret"
    )).value  # fmt: skip
    answer = await new_key(carol, permissions=pasted)
    assert answer.status_code == 400
    said = error_of(answer.text, "permissions")
    assert pasted[-4:] in said and pasted[8:-4] not in said

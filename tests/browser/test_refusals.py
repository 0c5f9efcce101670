"""What the page refuses: a POST without its CSRF field, a form sent from another site, another
account's key; and what it does not run: markup in a label."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Route, expect

from tests._keyguard_process import run_cli

from ._support import Tab, api_status

Form = dict[str, str | float | bool]  # what APIRequestContext.post takes
UNKNOWN_ID = "key_" + "0" * 26  # shaped like an id, of no key
ATTACKER = "http://attacker.test"


def still_active(tab: Tab, key_id: str, label: str) -> None:
    tab.go(f"/keys/{key_id}")
    expect(tab.page.locator("h1 .badge")).to_have_text("Active")
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text(label)


def test_a_post_without_the_csrf_field_changes_nothing(tab: Tab) -> None:
    created = tab.create_key("Guarded")
    tab.go(f"/keys/{created.key_id}")
    post = tab.page.request.post  # this signed-in context's cookie, sent with the request
    key_url = f"{tab.base}/keys/{created.key_id}"
    forms: list[tuple[str, Form]] = [("revoke", {}), ("rename", {"label": "x"}), ("roll", {})]
    for action, form in forms:
        answer = post(f"{key_url}/{action}", form={**form, "grace": "0"}, max_redirects=0)
        assert answer.status == 403, action
        assert "This form has expired" in answer.text()
        wrong: Form = {**form, "csrf": "x" * 43}
        assert post(f"{key_url}/{action}", form=wrong, max_redirects=0).status == 403
    new = post(f"{tab.base}/new", form={"access": "secret", "environment": "test", "label": "x"})
    assert new.status == 403
    still_active(tab, created.key_id, "Guarded")
    assert api_status(tab.server.base_url, created.value) == 200
    # the same request with the page's field goes through: the field was what was missing
    good: Form = {"label": "Guarded, renamed", "csrf": tab.csrf()}
    assert post(f"{key_url}/rename", form=good, max_redirects=0).status == 303
    still_active(tab, created.key_id, "Guarded, renamed")


def test_a_form_from_another_site_is_refused(tab: Tab) -> None:
    created = tab.create_key("Forged at")
    tab.go(f"/keys/{created.key_id}")
    stolen = tab.csrf()  # the worst case: the other site even has the page's token
    target = f"{tab.base}/keys/{created.key_id}/revoke"
    forged = (
        f'<!doctype html><form id="f" method="post" action="{target}">'
        f'<input type="hidden" name="csrf" value="{stolen}"></form>'
        "<script>document.getElementById('f').submit()</script>"
    )

    def attacker_site(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=forged)

    tab.context.route(f"{ATTACKER}/**", attacker_site)
    with tab.page.expect_response(target) as answer:
        tab.page.goto(f"{ATTACKER}/prize")
    # SameSite=Strict keeps the cookie off a cross-site POST, so nobody is signed in: 401
    assert answer.value.status == 401
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("You are not signed in")
    still_active(tab, created.key_id, "Forged at")
    assert api_status(tab.server.base_url, created.value) == 200
    # and were the cookie sent, the origin check refuses it: 403, nothing changed
    headers = {"Origin": ATTACKER, "Sec-Fetch-Site": "cross-site"}
    refused = tab.page.request.post(target, form={"csrf": stolen}, headers=headers, max_redirects=0)
    assert refused.status == 403
    assert "sent from another site" in refused.text()
    still_active(tab, created.key_id, "Forged at")


def test_another_accounts_key_is_the_same_404_as_no_key(tab: Tab) -> None:
    out = run_cli(tab.server.cwd, "keys", "create", "--account", "other", "--name", "Theirs",
                  "--env", "test", "--access", "secret", "--json")  # fmt: skip
    theirs = json.loads(out)
    tab.go()
    csrf = tab.csrf()
    pages = []
    for key_id in (theirs["id"], UNKNOWN_ID):
        tab.go(f"/keys/{key_id}", status=404)
        pages.append((tab.page.title(), tab.page.locator("main").inner_text()))
        tab.go(f"/keys/{key_id}/revoke", status=404)
        answer = tab.page.request.post(
            f"{tab.base}/keys/{key_id}/revoke", form={"csrf": csrf}, max_redirects=0
        )
        assert answer.status == 404
    assert pages[0] == pages[1]
    assert pages[0][0].startswith("No such key")
    tab.go("?q=Theirs")
    expect(tab.page.locator("td.empty")).to_have_text("No keys match these filters.")
    assert api_status(tab.server.base_url, theirs["value"]) == 200  # untouched


@pytest.mark.parametrize(
    "label", ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "{{ 7*7 }} &amp;"]
)
def test_markup_in_a_label_is_shown_as_text(tab: Tab, label: str) -> None:
    created = tab.create_key(label)
    page = tab.page
    expect(page.locator("dialog#new-key .meta dd").first).to_have_text(label)
    page.get_by_role("link", name="I have copied it").click()
    page.wait_for_url(f"{tab.base}/keys/{created.key_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)
    expect(page.get_by_role("textbox", name="Label")).to_have_value(label)
    assert page.title() == f"{label} · keyguard"
    page.get_by_role("link", name="Revoke key…").click()
    expect(page.locator("#revoke-dialog h2")).to_have_text(f"Revoke “{label}”?")
    tab.go()
    expect(page.get_by_role("link", name=label, exact=True)).to_be_visible()
    assert page.locator("script").count() == 1  # admin.js, and nothing the label brought
    assert page.locator("img").count() == 0
    assert tab.dialogs == [], "a label's markup ran"

"""Creating keys: the value is shown once, in a modal dialog, and is then nowhere: not in a later
page, a URL, a cookie, or the server's output. And it works against the API."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from ._support import Tab, api_status, assert_value_nowhere, content

PREFIXES = {"secret": "sk_test_", "publishable": "pk_test_"}


@pytest.mark.parametrize("access", ["secret", "publishable"])
def test_a_new_key_is_shown_once_and_works(tab: Tab, access: str) -> None:
    label = f"Checkout {access}"
    created = tab.create_key(label, access=access)
    assert created.value.startswith(PREFIXES[access]) and len(created.value) == 46
    assert created.response.headers["cache-control"] == "no-store"
    page = tab.page
    dialog = page.locator("dialog#new-key")
    assert dialog.evaluate("d => d.matches(':modal')"), "the one-time dialog is not modal"
    expect(dialog.get_by_role("heading")).to_have_text(f"Your new {access} key")
    expect(dialog).to_contain_text("it will not be shown again")
    expect(dialog.get_by_role("button", name="Copy")).to_be_visible()
    page.keyboard.press("Escape")  # the dialog stays: it closes only by saying it was copied
    expect(dialog).to_be_visible()

    page.get_by_role("link", name="I have copied it").click()
    page.wait_for_url(f"{tab.base}/keys/{created.key_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)
    expect(page.locator(".meta")).to_contain_text(created.value[:8] + "…" + created.value[-4:])
    assert created.value not in content(page)
    back_to_the_answer(tab)  # the answer of the POST: not stored, so not shown again
    assert created.value not in content(page)
    page.go_forward()
    assert created.value not in content(page)
    assert_value_nowhere(created.value, tab)

    base = tab.server.base_url
    if access == "secret":
        me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {created.value}"})
        assert me.status_code == 200
        assert me.json()["data"]["id"] == created.key_id
        assert created.value not in me.text
    else:
        products = httpx.get(
            f"{base}/v1/storefront/products", headers={"Authorization": created.value}
        )
        assert products.status_code == 200
        assert api_status(base, created.value) == 403  # a publishable key reads the catalogue
    assert_value_nowhere(created.value, tab, pages=False)  # and the API's log kept it out too


def back_to_the_answer(tab: Tab) -> None:
    """History back to a POST's answer: Chromium, having no copy (no-store), shows its "confirm
    form resubmission" error page (ERR_CACHE_MISS) rather than sending the form again."""
    try:
        tab.page.go_back()
    except PlaywrightError as exc:
        message = exc.message
    else:
        return
    assert "ERR_CACHE_MISS" in message, message


def test_a_reload_creates_nothing_more_and_shows_nothing(tab: Tab) -> None:
    created = tab.create_key("Reloaded once")
    page = tab.page
    page.reload()  # sends the form again: its one-time nonce is spent
    page.wait_for_url(f"{tab.base}?done=already-created")
    expect(page.locator(".notice")).to_contain_text("its value is not shown again")
    assert created.value not in content(page)
    tab.go("?q=Reloaded+once")
    expect(page.locator("table.keys tbody tr")).to_have_count(1)
    assert_value_nowhere(created.value, tab)


def test_the_copy_button_copies_the_value(tab: Tab) -> None:
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
    created = tab.create_key("Copied", access="publishable")
    page = tab.page
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.locator("[data-copied]")).to_have_text("The key is on your clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == created.value


def test_a_wrong_form_says_what_to_fix_beside_the_field(tab: Tab) -> None:
    tab.go("/new")
    page = tab.page
    page.get_by_label("Label").fill("   ")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create key").click()
    assert answer.value.status == 400
    label = page.get_by_label("Label")
    expect(label).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#label-error")).to_be_visible()
    assert "label-error" in (label.get_attribute("aria-describedby") or "")
    assert page.locator("dialog#new-key").count() == 0

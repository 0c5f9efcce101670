"""A restricted key in a real browser: a publishable key limited to one origin, made through the
form (which shows the list of places the chosen type has), said in words on its page, its
permissions changed there, and every step passing axe."""

from __future__ import annotations

from playwright.sync_api import expect

from ._support import OPERATOR, Tab
from .test_accessibility import assert_accessible

SHOP = "https://shop.example.com"


def test_a_publishable_key_limited_to_one_origin(tab: Tab) -> None:
    create_limited_to_one_origin(tab)
    change_its_permissions(tab)
    tab.go("")
    row = tab.page.get_by_role("row").filter(has_text="Shop widget")
    expect(row.locator(".badge.restricted")).to_have_text("Restricted")


def create_limited_to_one_origin(tab: Tab) -> None:
    """Through the form: the type chosen shows its list of places; a wrong entry is kept."""
    page = tab.page
    tab.go("/new")
    origins, networks = page.get_by_label("Allowed origins"), page.get_by_label("Allowed networks")
    expect(networks).to_be_visible()  # a secret key, as the form starts: its networks
    expect(origins).to_be_hidden()
    page.locator("input[name=access][value=publishable]").check()
    expect(origins).to_be_visible()
    expect(networks).to_be_hidden()
    assert_accessible(page, "the new-key form for a publishable key")
    origins.fill("https://shop.example.com/")  # a path: not an origin
    page.get_by_label("Label", exact=True).fill("Shop widget")
    with page.expect_navigation():
        page.get_by_role("button", name="Create key").click()
    expect(page.locator("#origins-error")).to_contain_text("must be an origin")
    expect(origins).to_have_value("https://shop.example.com/")  # kept, to be fixed
    expect(origins).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the new-key form with a wrong origin")

    origins.fill(SHOP)
    with page.expect_navigation():
        page.get_by_role("button", name="Create key").click()
    dialog = page.locator("dialog#new-key")
    expect(dialog).to_contain_text(f"Works from these origins only: {SHOP}")
    page.get_by_role("link", name="I have copied it").click()
    page.wait_for_url(f"{tab.base}/keys/*")


def change_its_permissions(tab: Tab) -> None:
    """On the key's page: the restrictions in words, then changed, audited as the person."""
    page = tab.page
    details = page.locator("section:has(#details-title) dl")
    expect(details).to_contain_text(f"Works from these origins only: {SHOP}")
    expect(details).to_contain_text("Not restricted: every route its access allows")
    assert_accessible(page, "a restricted key's page")

    page.get_by_label("Permissions", exact=True).fill("products:read, orders:*")
    with page.expect_navigation():
        page.get_by_role("button", name="Save restrictions").click()
    expect(page.get_by_role("status")).to_have_text(
        "Restrictions saved. Requests with this key follow them from now on."
    )
    expect(details.locator(".entries code")).to_have_text(["orders:*", "products:read", SHOP])
    newest = page.locator("table:below(#events-title) tbody tr").first.locator("td")
    expect(newest.nth(0)).to_have_text("Restrictions changed")
    expect(newest.nth(1)).to_have_text(f"person:{OPERATOR}")
    expect(newest.nth(3)).to_have_text("permissions from not restricted to orders:*, products:read")
    assert_accessible(page, "a key's page after its permissions changed")

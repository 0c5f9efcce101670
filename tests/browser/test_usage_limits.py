"""A key's usage limits in a real browser: set through its page's "Usage limits" form (a wrong
limit named beside its field and kept, typing limits choosing "These limits"), said in words,
audited as the person, the quota reset with its button, and every step passing axe."""

from __future__ import annotations

from playwright.sync_api import expect

from ._support import OPERATOR, Tab
from .test_accessibility import assert_accessible


def test_a_wrong_limit_is_named_and_kept(tab: Tab) -> None:
    created = tab.create_key("Metered server")
    tab.go(f"/keys/{created.key_id}")
    page = tab.page
    details = page.locator("section:has(#details-title) dl")
    expect(details.locator("#rate-limits-said")).to_have_text("Default: no rate limit")
    expect(details.locator("#quota-said")).to_have_text("No quota")
    assert_accessible(page, "a key's page with its usage limits form")

    limits = page.get_by_label("Limits", exact=True)
    limits.fill("100/s, 5000/x")
    expect(page.get_by_label("These limits")).to_be_checked()  # typing chose them
    page.get_by_label("Requests left").fill("1000")
    page.get_by_label("Refill to").fill("1000")
    page.get_by_label("Every", exact=True).fill("1d")
    save(tab)
    expect(page.locator("#rate_limits-error")).to_contain_text("“5000/x”: must be count/window")
    expect(limits).to_have_value("100/s, 5000/x")  # kept, to be fixed
    expect(limits).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Requests left")).to_have_value("1000")
    assert_accessible(page, "the usage limits form with a wrong limit")


def test_limits_saved_audited_and_the_quota_reset(tab: Tab) -> None:
    created = tab.create_key("Metered server")
    tab.go(f"/keys/{created.key_id}")
    page = tab.page
    details = page.locator("section:has(#details-title) dl")
    page.get_by_label("Limits", exact=True).fill("100/s, 5000/h")
    page.get_by_label("Requests left").fill("1000")
    page.get_by_label("Refill to").fill("1000")
    page.get_by_label("Every", exact=True).fill("1d")
    save(tab)
    expect(page.get_by_role("status")).to_contain_text("Usage limits saved.")
    expect(details.locator("#rate-limits-said")).to_have_text("100/s, 5000/h")
    expect(details.locator("#quota-said")).to_contain_text(
        "1000 requests left; refills to 1000 every 1d, next "
    )
    newest = page.locator("table:below(#events-title) tbody tr").first.locator("td")
    expect(newest.nth(0)).to_have_text("Usage limits changed")
    expect(newest.nth(1)).to_have_text(f"person:{OPERATOR}")
    expect(newest.nth(3)).to_have_text(
        "rate limits from default to 100/s, 5000/h;"
        " quota from none to 1000, refilled to 1000 every 1d"
    )
    assert_accessible(page, "a key's page after its usage limits changed")

    with page.expect_navigation():
        page.get_by_role("button", name="Reset quota").click()
    expect(page.get_by_role("status")).to_have_text("Quota reset. Its count starts over from now.")
    expect(newest.nth(3)).to_have_text("quota reset to 1000, refilled to 1000 every 1d")
    tab.go("")
    row = page.get_by_role("row").filter(has_text="Metered server")
    expect(row.locator(".badge.limited")).to_have_text("Limited")


def save(tab: Tab) -> None:
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="Save usage limits").click()

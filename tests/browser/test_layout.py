"""Readable on a laptop and on a phone (1280 and 390 px wide: nothing wider than the screen but
the tables, which scroll in their own region), and usable with the keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests._keyguard_process import KeyguardProcess

from ._support import Tab, seed_keys

LONG_LABELS = ["x" * 100, "eu-west-1-checkout-payment-webhook-consumer-" + "y" * 40]
WIDTHS = [1280, 390]
OVERFLOW = """() => ({
    body: document.body.scrollWidth, page: document.documentElement.scrollWidth,
    screen: document.documentElement.clientWidth })"""


@pytest.fixture(scope="module", autouse=True)
def seeded(demo: KeyguardProcess) -> list[str]:
    specs = [{"label": label} for label in LONG_LABELS]
    return seed_keys(demo.cwd, [*specs, {"label": "Revoked long " + "z" * 80, "revoke": True}])


def overflow(page: Page) -> str | None:
    """What is wider than the screen, or None."""
    page.wait_for_load_state()  # measured unstyled, a page is as wide as its longest word
    sizes = page.evaluate(OVERFLOW)
    if max(sizes["body"], sizes["page"]) <= sizes["screen"]:
        return None
    return f"{page.url}: {sizes}"


def visit_everything(tab: Tab, seeded: list[str]) -> list[str | None]:
    """Every kind of page and dialog the admin page has; what overflowed on each."""
    page = tab.page
    found = []
    for path in ["", "?q=x", "/new", "/keys/key_" + "0" * 26]:
        page.goto(tab.base + path)
        found.append(overflow(page))
    for key_id in seeded:
        tab.go(f"/keys/{key_id}")
        found.append(overflow(page))
        page.locator("a[data-dialog]").click()  # the revoke (or delete) dialog
        expect(page.locator("dialog[open]")).to_be_visible()
        found.append(overflow(page))
        tab.go(f"/keys/{key_id}/" + ("delete" if key_id == seeded[-1] else "revoke"))
        found.append(overflow(page))  # the confirmation page, as without JavaScript
    created = tab.create_key(LONG_LABELS[0])
    found.append(overflow(page))  # the one-time dialog
    tab.go(f"/keys/{created.key_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Roll key").click()
    found.append(overflow(page))  # the rolled key's dialog
    tab.go(f"/keys/{created.key_id}")
    expect(page.locator("table.pair")).to_be_visible()
    found.append(overflow(page))  # both keys of the roll, side by side
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_screen(tab: Tab, seeded: list[str], width: int) -> None:
    tab.page.set_viewport_size({"width": width, "height": 900})
    found = visit_everything(tab, seeded)
    assert [f for f in found if f] == []
    tab.go("?q=Demo")  # labels of every day: the table fits a laptop, scrolls on a phone
    region = tab.page.get_by_role("region", name="API keys")
    expect(region).to_have_attribute("tabindex", "0")  # so a keyboard can scroll it
    scrolls = region.evaluate("r => r.scrollWidth > r.clientWidth")
    assert scrolls is (width < 1280), f"at {width} px the table region scrolls: {scrolls}"


def tab_to(page: Page, selector: str, most: int = 30) -> None:
    """Press Tab until the element `selector` has the focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_keyboard_alone_creates_a_key(tab: Tab) -> None:
    tab.go()
    page = tab.page
    tab_to(page, "a.button.primary")
    new_key = page.get_by_role("link", name="+ New API key")
    expect(new_key).to_be_focused()
    outline = new_key.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth] }"
    )
    assert outline[0] != "none" and float(outline[1].removesuffix("px")) >= 2, outline
    page.keyboard.press("Enter")
    page.wait_for_url(tab.base + "/new")

    tab_to(page, "input[name=access]")
    page.keyboard.press("ArrowDown")  # from Secret to Publishable
    expect(page.locator("input[value=publishable]")).to_be_checked()
    tab_to(page, "#environment")
    tab_to(page, "#label")
    page.keyboard.type("Typed by keyboard")
    with page.expect_navigation() as answer:  # to the answer, loaded: the dialog modal
        page.keyboard.press("Enter")
    assert answer.value is not None and answer.value.status == 201

    dialog = page.locator("dialog#new-key")
    expect(dialog.get_by_role("heading")).to_have_text("Your new publishable key")
    assert dialog.evaluate("d => d.contains(document.activeElement)"), "focus is not in it"
    tab_to(page, "dialog#new-key a.button.primary")  # "I have copied it"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Typed by keyboard")

    tab_to(page, "a[data-dialog]")  # "Revoke key…": the dialog opens, Escape closes it
    page.keyboard.press("Enter")
    revoke = page.locator("dialog#revoke-dialog")
    expect(revoke).to_be_visible()
    assert revoke.evaluate("d => d.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(revoke).to_be_hidden()
    expect(page.locator("h1 .badge")).to_have_text("Active")

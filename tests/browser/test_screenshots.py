"""The two pictures of the docs, taken from the real page at 1280 px: the list with a few keys,
and the one-time dialog. They are saved only when KEYGUARD_SCREENSHOTS names a folder
(scripts/screenshots); the checks run either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests._keyguard_process import KeyguardProcess

from ._support import Spec, Tab, api_status, seed_keys, wait_for_api_status

KEYS: list[Spec] = [
    {"label": "Nightly export", "revoke": True},
    {"label": "Staging worker"},
    {"label": "Storefront widget", "access": "publishable", "env": "live"},
    {"label": "Checkout server", "env": "live"},
]


@pytest.fixture(scope="module", autouse=True)
def seeded(demo: KeyguardProcess) -> list[str]:
    ids = seed_keys(demo.cwd, KEYS)
    assert api_status(demo.base_url, demo.keys[0]) == 200  # so one key has been used
    return ids


def test_screenshot_of_the_list(tab: Tab, screenshots: Path | None) -> None:
    page = tab.page
    tab.go()
    for _ in range(30):  # the demo key's last use, written within half a second
        if "Never" not in page.locator("tr:has-text('Demo secret key') td").last.inner_text():
            break
        page.wait_for_timeout(200)
        tab.go()
    rows = page.locator("table.keys tbody tr")
    expect(rows).to_have_count(len(KEYS) + 2)
    expect(rows.first.locator("td").first).to_have_text("Checkout server")  # newest first
    expect(page.locator("table.keys .badge.revoked")).to_have_text("Revoked")
    region = page.get_by_role("region", name="API keys")
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth"), "the table is cut off"
    if screenshots is not None:
        page.screenshot(path=screenshots / "admin-list.png", full_page=True)


def test_screenshot_of_the_new_key_dialog(tab: Tab, screenshots: Path | None) -> None:
    created = tab.create_key("Billing service")
    page = tab.page
    dialog = page.locator("dialog#new-key")
    expect(dialog.locator("#key-value")).to_have_text(created.value)
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    assert box["y"] >= 0 and box["y"] + box["height"] <= 900, "the dialog is off the screen"
    page.mouse.move(0, 0)  # no hover on a button in the picture
    page.evaluate("document.activeElement.blur()")
    if screenshots is not None:
        page.screenshot(path=screenshots / "admin-new-key.png")
    wait_for_api_status(tab.server.base_url, created.value, 200)

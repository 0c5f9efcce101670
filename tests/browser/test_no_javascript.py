"""The whole life of a key with JavaScript off: the value shows in the page itself, and revoke
and delete ask on confirmation pages of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, StorageState, expect

from tests._keyguard_process import KeyguardProcess

from ._support import WAIT_MS, Tab, assert_value_nowhere, wait_for_api_status


@pytest.fixture
def tab(browser: Browser, signed_in: StorageState, demo: KeyguardProcess) -> Iterator[Tab]:
    context = browser.new_context(storage_state=signed_in, java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    try:
        yield Tab(context.new_page(), demo)
    finally:
        context.close()


def confirm(tab: Tab, action: str, key_id: str, label: str) -> None:
    """From the key page, through the confirmation page, to the answer."""
    page = tab.page
    page.get_by_role("link", name=f"{action} key…").click()
    page.wait_for_url(f"{tab.base}/keys/{key_id}/{action.lower()}")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"{action} “{label}”?")
    expect(page.locator("main")).to_contain_text("This cannot be undone.")
    page.get_by_role("button", name=f"{action} key").click()


def test_create_revoke_and_delete_without_javascript(tab: Tab) -> None:
    created = tab.create_key("No script")
    page = tab.page
    dialog = page.locator("dialog#new-key")
    expect(dialog).to_be_visible()  # an open dialog in the page, not a modal
    expect(dialog.locator("#key-value")).to_have_text(created.value)
    expect(dialog.get_by_role("button", name="Copy")).to_be_hidden()  # needs a script
    page.get_by_role("link", name="I have copied it").click()
    page.wait_for_url(f"{tab.base}/keys/{created.key_id}")

    page.get_by_role("link", name="Revoke key…").click()  # Cancel goes back, changing nothing
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{tab.base}/keys/{created.key_id}")
    expect(page.locator("h1 .badge")).to_have_text("Active")

    confirm(tab, "Revoke", created.key_id, "No script")
    page.wait_for_url(f"{tab.base}/keys/{created.key_id}?done=revoked")
    expect(page.locator("h1 .badge")).to_have_text("Revoked")
    wait_for_api_status(tab.server.base_url, created.value, 401)

    confirm(tab, "Delete", created.key_id, "No script")
    page.wait_for_url(f"{tab.base}?done=deleted")
    expect(page.get_by_role("status")).to_have_text("Key deleted.")
    expect(page.get_by_role("link", name="No script")).to_have_count(0)
    tab.go(f"/keys/{created.key_id}", status=404)
    assert_value_nowhere(created.value, tab)


def test_without_javascript_rename_and_roll_work_too(tab: Tab) -> None:
    created = tab.create_key("Plain form")
    tab.go(f"/keys/{created.key_id}")
    page = tab.page
    page.get_by_role("textbox", name="Label").fill("Plain form, renamed")
    page.get_by_role("button", name="Save label").click()
    expect(page.get_by_role("status")).to_have_text("Label saved.")
    page.get_by_label("Old key keeps working for").select_option("0")
    with page.expect_navigation():
        page.get_by_role("button", name="Roll key").click()
    new_value = page.locator("dialog#new-key #key-value").inner_text().strip()
    assert new_value.startswith("sk_test_") and new_value != created.value
    wait_for_api_status(tab.server.base_url, created.value, 401)  # no grace: stopped at once
    wait_for_api_status(tab.server.base_url, new_value, 200)
    for value in (created.value, new_value):
        assert_value_nowhere(value, tab)

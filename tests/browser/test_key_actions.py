"""A key's page: rename, revoke in the confirmation dialog, delete once revoked, and roll with a
grace period, each checked where it shows: the page, its Activity table, and the API."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, expect

from ._support import (
    OPERATOR,
    Tab,
    api_status,
    assert_value_nowhere,
    seed_keys,
    wait_for_api_status,
)

ACTOR = f"person:{OPERATOR}"
ANYTHING = re.compile(r".+")
ROLLING = re.compile(r"^Rolling until \d{4}-\d\d-\d\d \d\d:\d\d UTC$")
LABEL_ERROR = "Must be 1 to 100 characters, not counting surrounding spaces."


def first_event(tab: Tab) -> Locator:
    return tab.page.locator("table:below(#events-title) tbody tr").first


def save_label(tab: Tab, label: str, status: int) -> None:
    page = tab.page
    page.get_by_role("textbox", name="Label").fill(label)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save label").click()
    assert answer.value.status == status


def test_rename_says_what_is_wrong_beside_the_field(tab: Tab) -> None:
    (key_id,) = seed_keys(tab.server.cwd, [{"label": "Rename me"}])
    tab.go(f"/keys/{key_id}")
    page = tab.page
    field = page.get_by_role("textbox", name="Label")
    save_label(tab, "", 400)
    expect(page.locator(".field:has(#label) #label-error")).to_have_text(LABEL_ERROR)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "label-error")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rename me")

    field.evaluate("input => input.removeAttribute('maxlength')")  # as a script could send
    save_label(tab, "x" * 101, 400)
    expect(page.locator("#label-error")).to_have_text(LABEL_ERROR)
    expect(field).to_have_value("x" * 101)  # what was typed stays, to be fixed

    save_label(tab, "Renamed key", 303)  # to the key page, which says it was saved
    page.wait_for_url(f"{tab.base}/keys/{key_id}?done=renamed")
    expect(page.get_by_role("status")).to_have_text("Label saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renamed key")
    expect(page.locator("#label-error")).to_have_count(0)
    expect(first_event(tab).locator("td")).to_have_text(
        ["Renamed", ACTOR, ANYTHING, "from “Rename me” to “Renamed key”"]
    )


def test_revoke_asks_in_a_dialog_then_delete_removes_the_key(tab: Tab) -> None:
    created = tab.create_key("Revoke me")
    tab.go(f"/keys/{created.key_id}")
    page = tab.page
    expect(page.get_by_role("link", name="Delete key…")).to_have_count(0)
    expect(page.locator(".danger-zone")).to_contain_text("Delete becomes available once")

    revoke_link = page.get_by_role("link", name="Revoke key…")
    revoke_link.click()
    dialog = page.locator("dialog#revoke-dialog")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal')")
    assert page.url == f"{tab.base}/keys/{created.key_id}"  # no page of its own with JS
    expect(dialog.get_by_role("heading")).to_have_text("Revoke “Revoke me”?")
    expect(dialog).to_contain_text("This cannot be undone.")
    expect(dialog).to_contain_text(created.value[:8] + "…" + created.value[-4:])
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(revoke_link).to_be_focused()
    assert api_status(tab.server.base_url, created.value) == 200  # cancel changed nothing

    revoke_link.click()
    dialog.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("Key revoked.")
    expect(page.locator("h1 .badge")).to_have_text("Revoked")
    expect(first_event(tab).locator("td").nth(0)).to_have_text("Revoked")
    expect(first_event(tab).locator("td").nth(1)).to_have_text(ACTOR)
    wait_for_api_status(tab.server.base_url, created.value, 401)

    page.get_by_role("link", name="Delete key…").click()
    dialog = page.locator("dialog#delete-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Delete “Revoke me”?")
    dialog.get_by_role("button", name="Delete key").click()
    page.wait_for_url(f"{tab.base}?done=deleted")
    expect(page.get_by_role("status")).to_have_text("Key deleted.")
    expect(page.get_by_role("link", name="Revoke me")).to_have_count(0)
    tab.go(f"/keys/{created.key_id}", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("No such key")
    assert_value_nowhere(created.value, tab)


def test_delete_is_refused_before_revoke(tab: Tab) -> None:
    (key_id,) = seed_keys(tab.server.cwd, [{"label": "Still active"}])
    tab.go(f"/keys/{key_id}/delete", status=409)
    expect(tab.page.locator("main")).to_contain_text("Only a revoked key can be deleted.")
    tab.go(f"/keys/{key_id}")
    expect(tab.page.locator("h1 .badge")).to_have_text("Active")


def both_last_used(tab: Tab, within: float = 10.0) -> list[str]:
    """The roll table's last-used column, reloaded until both keys have a time."""
    deadline = time.monotonic() + within
    while True:
        times = tab.page.locator("table.pair tbody tr td:nth-child(3)").all_inner_texts()
        if "Never" not in times or time.monotonic() > deadline:
            return times
        time.sleep(0.3)
        tab.page.reload()


def test_roll_shows_the_new_value_once_and_both_keys_work(tab: Tab) -> None:
    old = tab.create_key("Roll me")
    tab.go(f"/keys/{old.key_id}")
    page = tab.page
    page.get_by_label("Old key keeps working for").select_option("1h")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Roll key").click()
    assert answer.value.status == 201
    assert answer.value.headers["cache-control"] == "no-store"
    dialog = page.locator("dialog#new-key")
    expect(dialog.get_by_role("heading")).to_have_text("Key rolled: your new key")
    new_value = dialog.locator("#key-value").inner_text().strip()
    assert new_value.startswith("sk_test_") and new_value != old.value
    expect(dialog).to_contain_text(f"{old.value[:8]}…{old.value[-4:]} keeps working until")

    base = tab.server.base_url
    assert (api_status(base, old.value), api_status(base, new_value)) == (200, 200)
    tab.go(f"/keys/{old.key_id}")
    expect(page.locator("h1 .badge")).to_have_text(ROLLING)
    expect(page.get_by_role("button", name="Roll key")).to_have_count(0)
    rows = page.locator("table.pair tbody tr")
    roles = [re_start("This key:"), re_start("New key:")]
    expect(rows.locator("td:first-child")).to_have_text(roles)
    assert "Never" not in both_last_used(tab), "the roll table lacks a last-used time"
    expect(first_event(tab).locator("td").nth(0)).to_have_text("Rolled")
    expect(first_event(tab).locator("td").nth(1)).to_have_text(ACTOR)
    page.locator("table.pair").get_by_role("link").click()  # to the new key's page
    expect(rows.locator("td:first-child")).to_have_text(
        [re_start("Old key:"), re_start("New key (this one):")]
    )
    for value in (old.value, new_value):
        assert_value_nowhere(value, tab)
    assert (api_status(base, old.value), api_status(base, new_value)) == (200, 200)


def re_start(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text))

"""axe-core, run in the page, finds nothing critical or serious on any of the admin page's views:
the list, the form, the one-time dialog (open, modal), a key's page, its revoke dialog. And the
checker does look: what it must catch, planted in a copy of the page, it reports."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect

from tests._keyguard_process import KeyguardProcess

from ._support import Tab, seed_keys

BLOCKING = ("critical", "serious")


@pytest.fixture(scope="module", autouse=True)
def seeded(demo: KeyguardProcess) -> list[str]:
    specs = [{"label": "Checkout server"}, {"label": "Widget", "access": "publishable"}]
    return seed_keys(demo.cwd, [*specs, {"label": "Old export", "revoke": True}])


def violations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return found


def report(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        targets = ", ".join(str(node["target"]) for node in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    blocking = [v for v in violations(page) if v["impact"] in BLOCKING]
    assert blocking == [], f"axe on {what}:\n{report(blocking)}"


def test_the_list_and_the_form(tab: Tab) -> None:
    tab.go()
    assert_accessible(tab.page, "the list")
    tab.go("?status=revoked&sort=name")
    assert_accessible(tab.page, "a filtered list")
    tab.go("?q=no+such+key")
    assert_accessible(tab.page, "an empty list")
    tab.go("/new")
    assert_accessible(tab.page, "the new-key form")
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="Create key").click()  # no label: errors shown
    expect(tab.page.locator("#label-error")).to_be_visible()
    assert_accessible(tab.page, "the new-key form with an error")


def test_the_one_time_dialog(tab: Tab) -> None:
    tab.create_key("Axe checked")
    dialog = tab.page.locator("dialog#new-key")
    assert dialog.evaluate("d => d.matches(':modal')")
    assert_accessible(tab.page, "the one-time dialog")


def test_a_keys_page_and_its_dialogs(tab: Tab, seeded: list[str]) -> None:
    active, _, revoked = seeded
    page = tab.page
    tab.go(f"/keys/{active}")
    assert_accessible(page, "a key's page")
    page.get_by_role("link", name="Revoke key…").click()
    expect(page.locator("dialog#revoke-dialog")).to_be_visible()
    assert_accessible(page, "the revoke dialog")
    tab.go(f"/keys/{active}")
    page.get_by_role("textbox", name="Label").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Save label").click()
    expect(page.locator("#label-error")).to_be_visible()
    assert_accessible(page, "the rename form with an error")
    tab.go(f"/keys/{revoked}")
    page.get_by_role("link", name="Delete key…").click()
    expect(page.locator("dialog#delete-dialog")).to_be_visible()
    assert_accessible(page, "the delete dialog")
    tab.go(f"/keys/{active}/revoke")
    assert_accessible(page, "the revoke confirmation page")
    tab.go("/keys/key_" + "0" * 26, status=404)
    assert_accessible(page, "the no-such-key page")


def test_a_rolled_keys_page(tab: Tab, seeded: list[str]) -> None:
    created = tab.create_key("Rolled for axe")
    tab.go(f"/keys/{created.key_id}")
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="Roll key").click()
    assert_accessible(tab.page, "the rolled key's dialog")
    tab.go(f"/keys/{created.key_id}")
    expect(tab.page.locator("table.pair")).to_be_visible()
    assert_accessible(tab.page, "a rolled key's page")


def test_the_checker_finds_what_is_planted(tab: Tab) -> None:
    tab.go()
    tab.page.evaluate(
        """() => {
            const select = document.createElement("select");
            select.innerHTML = "<option>one</option><option>two</option>";
            const image = document.createElement("img");
            image.src = "static/admin.css";
            document.querySelector("main").append(select, image);
        }"""
    )
    found = {v["id"]: v["impact"] for v in violations(tab.page)}
    assert found.get("select-name") in BLOCKING, report(violations(tab.page))
    assert found.get("image-alt") in BLOCKING, report(violations(tab.page))

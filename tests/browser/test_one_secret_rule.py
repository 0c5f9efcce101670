"""An account that allows one active secret key per owner: the page refuses a second one and says
what to do, in a module (and demo) of its own, since the setting holds for the whole account."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests._keyguard_process import KeyguardProcess, run_cli

from ._support import Tab


@pytest.fixture(scope="module", autouse=True)
def one_secret_key_per_owner(demo: KeyguardProcess) -> None:
    said = run_cli(demo.cwd, "accounts", "set", "demo", "--one-secret-key-per-owner")
    assert "one secret key per owner is on" in said


def send_new_key_form(tab: Tab, label: str, access: str, status: int) -> None:
    page = tab.page
    page.locator(f"input[name=access][value={access}]").check()
    page.get_by_label("Label").fill(label)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create key").click()
    assert answer.value.status == status


def test_a_second_secret_key_is_refused_until_the_first_is_revoked(tab: Tab) -> None:
    # The demo minted a secret key owned by nobody, as the operator's keys are.
    tab.go("/new")
    send_new_key_form(tab, "Second secret", "secret", 409)
    page = tab.page
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("one active secret key per owner")
    expect(summary).to_contain_text("revoke the current one first")
    expect(page.get_by_label("Label")).to_have_value("Second secret")  # nothing to retype
    expect(page.locator("dialog#new-key")).to_have_count(0)
    tab.go("?q=Second+secret")
    expect(page.locator("td.empty")).to_be_visible()

    tab.create_key("Publishable is fine", access="publishable")

    tab.go(f"/keys/{tab.key_id_of('Demo secret key')}")
    page.get_by_role("link", name="Revoke key…").click()
    page.locator("#revoke-dialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("Key revoked.")

    created = tab.create_key("Second secret")
    assert created.value.startswith("sk_test_")
    tab.go("/new")
    send_new_key_form(tab, "Third secret", "secret", 409)
    expect(page.get_by_role("alert")).to_contain_text("revoke the current one first")

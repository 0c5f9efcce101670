"""Signing in with the one-time link `keyguard demo` prints, and signing out."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests._keyguard_process import KeyguardProcess

from ._support import OPERATOR


def test_the_link_signs_in_once_and_never_again(browser: Browser, demo: KeyguardProcess) -> None:
    first = browser.new_context()
    second = browser.new_context()
    try:
        page = first.new_page()
        answer = page.goto(demo.base_url + "/admin")
        assert answer is not None and answer.status == 401
        expect(page.get_by_role("heading", level=1)).to_have_text("You are not signed in")

        page.goto(demo.sign_in_link)
        assert page.url == demo.base_url + "/admin"  # the token left the address bar
        expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
        expect(page.locator(".who")).to_contain_text(f"{OPERATOR} · demo")
        (cookie,) = first.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "keyguard_admin",
            True,
            "Strict",
        )

        again = second.new_page()
        answer = again.goto(demo.sign_in_link)
        assert answer is not None and answer.status == 401
        expect(again.locator("main")).to_contain_text("That sign-in link was used already")
        assert second.cookies() == []
        again.goto(demo.base_url + "/admin")
        expect(again.get_by_role("heading", level=1)).to_have_text("You are not signed in")

        page.reload()  # the first browser is still signed in
        expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    finally:
        first.close()
        second.close()


def test_keyguard_admin_signs_in_once_and_out(browser: Browser, tmp_path: Path) -> None:
    """`keyguard admin` serves the page alone, with a link of its own; signing out ends the
    session, even for a copy of its cookie."""
    env = {"USER": OPERATOR, "LOGNAME": OPERATOR}
    with KeyguardProcess(["admin", "--account", "shop"], tmp_path, env=env) as server:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(server.sign_in_link)
            assert page.url == server.base_url + "/admin"
            expect(page.locator(".who")).to_contain_text(f"{OPERATOR} · shop")
            expect(page.locator("td.empty")).to_have_text("No keys yet. Create one to get started.")
            copied = context.storage_state()  # the cookie, as someone might have kept it
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Signed out")
            page.goto(server.base_url + "/admin")
            expect(page.get_by_role("heading", level=1)).to_have_text("You are not signed in")
            replay = browser.new_context(storage_state=copied)
            answer = replay.new_page().goto(server.base_url + "/admin")
            replay.close()
            assert answer is not None and answer.status == 401
        finally:
            context.close()

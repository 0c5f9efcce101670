"""Fixtures for the admin page in a real browser: Debian's Chromium, headless, driven by
Playwright's sync API, against `keyguard demo` running as a process of its own.

Each test module gets its own browser and its own demo (a fresh `keyguard.db`), both torn down
when the module ends: Playwright's sync API keeps an event loop running in this thread, which
the suite's asyncio tests must not meet. The demo's one-time link signs in once per module; every
test's context starts from a copy of that signed-in state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, StorageState, sync_playwright

from tests._keyguard_process import KeyguardProcess

from ._support import CHROMIUM, LAUNCH_ARGS, OPERATOR, WAIT_MS, Tab

# The operator the link signs in is whoever runs the demo; last-used times written twice a
# second, so a test sees them without waiting the default 5 s.
DEMO_ENV = {"USER": OPERATOR, "LOGNAME": OPERATOR, "KEYGUARD_LAST_USED_INTERVAL": "0.5"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium), or run the"
            " tests through scripts/test, which does; KEYGUARD_TEST_CHROMIUM names another",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyguardProcess]:
    """`keyguard demo` in a directory of this module's own, on its embedded SQLite file."""
    server = KeyguardProcess(["demo"], tmp_path_factory.mktemp("demo"), env=DEMO_ENV).start()
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.output(), server.output()[-3000:]


@pytest.fixture(scope="module")
def signed_in(browser: Browser, demo: KeyguardProcess) -> StorageState:
    """The demo's link, opened once: the session cookie every test's context starts with."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(demo.sign_in_link)
        assert page.url == demo.base_url + "/admin", page.url
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def context(browser: Browser, signed_in: StorageState) -> Iterator[BrowserContext]:
    made = browser.new_context(storage_state=signed_in, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(WAIT_MS)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def tab(context: BrowserContext, demo: KeyguardProcess) -> Tab:
    return Tab(context.new_page(), demo)


@pytest.fixture
def screenshots() -> Path | None:
    """Where to save the screenshots for the docs (KEYGUARD_SCREENSHOTS), or None: not asked."""
    named = os.environ.get("KEYGUARD_SCREENSHOTS", "")
    if not named:
        return None
    folder = Path(named)
    folder.mkdir(parents=True, exist_ok=True)
    return folder

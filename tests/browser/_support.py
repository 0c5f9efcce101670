"""What the browser tests share: a tab on the admin page that records what the browser asked
for, creating a key through the form, seeding keys behind the page's back, and the checks that a
key's value went nowhere it should not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from playwright.sync_api import BrowserContext, Dialog, Page, Request, Response
from playwright.sync_api import Error as PlaywrightError

from tests._keyguard_process import KeyguardProcess, clean_env

__all__ = [
    "CHROMIUM",
    "LAUNCH_ARGS",
    "OPERATOR",
    "WAIT_MS",
    "Created",
    "Spec",
    "Tab",
    "api_status",
    "assert_value_nowhere",
    "content",
    "seed_keys",
    "wait_for_api_status",
]

CHROMIUM = os.environ.get("KEYGUARD_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OPERATOR = "ada"  # the login name the demo's one-time link signs in
WAIT_MS = 10_000  # any one wait in the browser: a missing element fails fast, with a trace
Spec = Mapping[str, str | bool]  # a key for seed_keys to make
KEY_ID = re.compile(r"/keys/(key_[0-9A-Z]+)$")


@dataclass(frozen=True, slots=True)
class Created:
    value: str
    key_id: str
    response: Response


@dataclass
class Tab:
    """One page of a browser context, at the admin page of `server`; keeps every URL the
    browser requested and every JavaScript dialog (alert, confirm) that opened."""

    page: Page
    server: KeyguardProcess
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", self._requested)
        self.page.on("dialog", self._dialog)

    def _requested(self, request: Request) -> None:
        self.requests.append(request.url)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @property
    def base(self) -> str:
        return self.server.base_url + "/admin"

    @property
    def context(self) -> BrowserContext:
        return self.page.context

    def go(self, path: str = "", status: int = 200) -> Response:
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status == status, f"GET {path}: {response.status}"
        return response

    def create_key(self, label: str, access: str = "secret", environment: str = "test") -> Created:
        """Fill in and send the new-key form; the value as the one-time dialog shows it."""
        self.go("/new")
        page = self.page
        page.locator(f"input[name=access][value={access}]").check()
        page.get_by_label("Environment").select_option(environment)
        page.get_by_label("Label").fill(label)
        # the answer loaded: its stylesheet applied, its script run, the dialog modal
        with page.expect_navigation() as answer:
            page.get_by_role("button", name="Create key").click()
        response = answer.value
        assert response is not None and response.request.method == "POST"
        assert response.status == 201, f"create {label!r}: {response.status}"
        value = page.locator("dialog#new-key code#key-value").inner_text().strip()
        href = page.get_by_role("link", name="I have copied it").get_attribute("href") or ""
        found = KEY_ID.search(href)
        assert found, f"no key page link in the dialog: {href!r}"
        return Created(value, found.group(1), response)

    def follow(self, name: str) -> None:
        """Click the link called `name`, and wait until the page it leads to has loaded."""
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name).click()

    def key_id_of(self, label: str) -> str:
        """The id of the key labelled `label`, from the list's link to it."""
        self.go("?" + urlencode({"q": label}))
        href = self.page.get_by_role("link", name=label, exact=True).get_attribute("href") or ""
        found = KEY_ID.search(href)
        assert found, f"no key labelled {label!r} in the list"
        return found.group(1)

    def csrf(self) -> str:
        return self.page.locator("input[name=csrf]").first.input_value()


def content(page: Page, within: float = 5.0) -> str:
    """The page's HTML, once it has stopped navigating (an error page, such as Chromium's
    "confirm form resubmission", may still be loading when a navigation call returns)."""
    deadline = time.monotonic() + within
    while True:
        try:
            page.wait_for_load_state()
            return page.content()
        except PlaywrightError as exc:
            if "navigating" not in exc.message or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def assert_value_nowhere(value: str, tab: Tab, *, pages: bool = True) -> None:
    """The value is in no URL the browser asked for, no cookie, and not in the server's output;
    with `pages`, in none of the pages below (the list, the key page, after a reload)."""
    assert all(value not in url for url in tab.requests), "a key value was in a requested URL"
    cookies = tab.context.cookies()
    assert all(value not in c["value"] and value not in c["name"] for c in cookies)
    assert value not in tab.server.output(), "a key value reached the server's output"
    if not pages:
        return
    tab.go("")
    assert value not in content(tab.page)
    tab.page.reload()
    assert value not in content(tab.page)


def api_status(base_url: str, value: str) -> int:
    """What `GET /v1/me` with the key answers."""
    answer = httpx.get(
        f"{base_url}/v1/me", headers={"Authorization": f"Bearer {value}"}, timeout=10.0
    )
    return answer.status_code


def wait_for_api_status(base_url: str, value: str, expected: int, within: float = 5.0) -> None:
    """`/v1/me` answers `expected` within `within` seconds (a revocation takes effect within
    the guard's staleness bound, 1 s by default)."""
    deadline = time.monotonic() + within
    status = api_status(base_url, value)
    while status != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        status = api_status(base_url, value)
    assert status == expected, f"/v1/me answered {status}, not {expected}"


_SEED = """
import asyncio, json, sys
from keyguard import KeyGuard

async def main() -> None:
    guard = KeyGuard.from_env()
    await guard.start()
    ids = []
    try:
        for spec in json.loads(sys.argv[1]):
            created = await guard.manager.create(
                account=spec["account"], name=spec["label"], environment=spec["env"],
                access=spec["access"], actor="test-seed")
            if spec["revoke"]:
                await guard.manager.revoke(
                    created.record.id, account=spec["account"], actor="test-seed")
            ids.append(created.record.id)
    finally:
        await guard.stop()
    print(json.dumps(ids))

asyncio.run(main())
"""


def seed_keys(cwd: Path, specs: Sequence[Spec]) -> list[str]:
    """Make keys in the `keyguard.db` of `cwd`, straight through `KeyManager` (in a process of
    their own: the tests' thread runs Playwright's event loop); their ids, never their values.

    Each spec: label, and optionally account ("demo"), env ("test"), access ("secret"),
    revoke (False)."""
    full = [
        {"account": "demo", "env": "test", "access": "secret", "revoke": False, **spec}
        for spec in specs
    ]
    done = subprocess.run(
        [sys.executable, "-c", _SEED, json.dumps(full)],
        cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"seeding keys failed: {done.stderr[-2000:]}"
    ids: list[str] = json.loads(done.stdout)
    return ids

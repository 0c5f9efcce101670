"""Driving the admin page over HTTP as a browser would: forms with their CSRF token and nonce."""

from __future__ import annotations

import html
import re

import httpx

__all__ = ["ADMIN", "PageClient", "field", "key_ids"]

ADMIN = "/admin"
_HIDDEN = r'name="{}" value="([^"]*)"'
_KEY_ID = re.compile(r"/admin/keys/(key_[0-9A-Za-z]+)\"")
_VALUE = re.compile(r'id="key-value">([^<]+)<')


def field(page: str, name: str) -> str:
    found = re.search(_HIDDEN.format(name), page)
    assert found, f"no {name!r} field in the page"
    return html.unescape(found.group(1))


def key_ids(page: str) -> list[str]:
    """The keys a list page links to, in order, once each."""
    return list(dict.fromkeys(_KEY_ID.findall(page)))


class PageClient:
    """One person's browser: keeps cookies, reads each form's token from the page it is on."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def get(self, path: str = "", **params: str) -> httpx.Response:
        return await self.http.get(ADMIN + path, params=params)

    async def submit(self, form_page: str, action: str, **data: str) -> httpx.Response:
        """POST `data` to `action` with the CSRF token (and nonce) of the page it came from."""
        extra = {"csrf": field(form_page, "csrf")}
        if 'name="nonce"' in form_page:
            extra["nonce"] = field(form_page, "nonce")
        return await self.http.post(ADMIN + action, data={**extra, **data})

    async def create(
        self, label: str, *, access: str = "secret", environment: str = "test"
    ) -> tuple[str, str]:
        """Create a key through the form; (its id, its value)."""
        form = await self.get("/new")
        answer = await self.submit(
            form.text, "/new", access=access, environment=environment, label=label
        )
        assert answer.status_code == 201, answer.text
        value = _VALUE.search(answer.text)
        assert value is not None
        return key_ids(answer.text)[0], value.group(1)

    async def act(self, key_id: str, action: str, **data: str) -> httpx.Response:
        """Revoke, delete, rename or roll from the key's own page."""
        page = await self.get(f"/keys/{key_id}")
        assert page.status_code == 200, page.text
        return await self.submit(page.text, f"/keys/{key_id}/{action}", **data)

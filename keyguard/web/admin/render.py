"""How the page answers: HTML from Jinja2 templates (autoescaped, strict about missing names),
and the headers every answer carries, the static files included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .display import DISPLAY_FILTERS

__all__ = ["CONTENT_SECURITY_POLICY", "Renderer", "with_page_headers"]

# Scripts and styles from this page only, nothing inline; no frames around it; forms post here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_REPLACED = {name for name, _ in _HEADERS} | {b"cache-control"}


def with_page_headers(app: ASGIApp) -> ASGIApp:
    """Every answer gets the security headers; pages are never cached (they show key metadata,
    and once a key's value), the stylesheet and script are revalidated."""

    async def app_with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        static = get_route_path(scope).startswith("/static/")
        cache = b"no-cache" if static else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k not in _REPLACED]
                headers = [*kept, *_HEADERS, (b"cache-control", cache)]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return app_with_headers


class Renderer:
    def __init__(self) -> None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("keyguard.web.admin", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(DISPLAY_FILTERS)
        self.templates = Jinja2Templates(env=env)

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self.templates.TemplateResponse(
            request, name, dict(context), status_code=status, headers=headers
        )

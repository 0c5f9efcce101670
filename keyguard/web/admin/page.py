"""`AdminPage`: the Settings → API keys page as an ASGI app to mount in any Starlette or FastAPI
app. It runs the same `KeyManager` as the HTTP API and the CLI: no second copy of the rules.

    page = AdminPage(guard, identify=who_is_signed_in, login_url="/login")
    app = Starlette(
        routes=[..., page.mount("/settings/api-keys")],
        middleware=[Middleware(APIKeyMiddleware, guard=guard,
                               public_paths=page.public_paths("/settings/api-keys"))],
    )

The page signs people in through the host app (`identify`) or, for `keyguard demo` and
`keyguard admin`, with a one-time token printed on the terminal (`TokenSignIn`).
"""

from __future__ import annotations

from datetime import timedelta

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from keyguard._guard import KeyGuard

from .identity import Identify
from .nonces import NonceBook
from .render import Renderer, with_page_headers
from .routes import page_routes
from .sessions import SessionCodec, session_secret
from .sign_in import TokenSignIn
from .visit import on_http_error, on_server_error

__all__ = ["DEFAULT_LIVE_ENVIRONMENT", "AdminPage"]

DEFAULT_LIVE_ENVIRONMENT = "live"


class AdminPage:
    """The page, for whoever `identify` says (or the token sign-in signs in)."""

    def __init__(
        self,
        guard: KeyGuard,
        *,
        identify: Identify | None = None,
        sign_in: TokenSignIn | None = None,
        login_url: str | None = None,
        session_secret_key: bytes | None = None,
        session_lifetime: timedelta = timedelta(hours=8),
        live_environment: str = DEFAULT_LIVE_ENVIRONMENT,
        page_size: int = 20,
    ) -> None:
        _check_options(guard, identify, sign_in, login_url, live_environment, page_size)
        self.guard = guard
        self.manager = guard.manager
        self.environments = guard.key_format.environments
        self.rate_limit_defaults = guard.settings.rate_limit_defaults()
        self.identify, self.sign_in, self.login_url = identify, sign_in, login_url
        self.live_environment = live_environment
        self.page_size = page_size
        # A token sign-in lasts one process: its sessions die with it (and with sign-out), so
        # a cookie from an earlier start never fits a page started for someone else.
        pepper = None if sign_in is not None else guard.settings.pepper
        secret = session_secret_key or session_secret(pepper)
        self.sessions = SessionCodec(secret, lifetime=int(session_lifetime.total_seconds()))
        self.nonces = NonceBook()
        self.renderer = Renderer()
        inner = Starlette(
            routes=page_routes(),
            exception_handlers={HTTPException: on_http_error, Exception: on_server_error},
        )
        inner.state.page = self
        self._app = with_page_headers(inner)

    def mount(self, path: str) -> Mount:
        """The route that serves the page at `path` (its list is `path` itself, no slash)."""
        if not path.startswith("/") or path == "/" or path.endswith("/"):
            raise ValueError(f"mount the page at a path like '/admin', not {path!r}")
        return _PageMount(path, app=self)

    @staticmethod
    def public_paths(path: str) -> list[str]:
        """The paths to list in `APIKeyMiddleware(public_paths=...)`: the page signs people in
        itself, so API keys are not asked for there."""
        return [path, f"{path}/*"]

    def sign_in_link(self, page_url: str) -> str:
        """The one-time link to print where the operator sees it (token sign-in only)."""
        if self.sign_in is None:
            raise RuntimeError("this page signs people in through the host app")
        return self.sign_in.link(page_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no websockets here; a mounted app sees no lifespan
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        if get_route_path(scope) == "":  # the list, at the mount path itself
            scope = {**scope, "path": scope["path"] + "/"}
        await self._app(scope, receive, send)


def _check_options(
    guard: KeyGuard,
    identify: Identify | None,
    sign_in: TokenSignIn | None,
    login_url: str | None,
    live_environment: str,
    page_size: int,
) -> None:
    if (identify is None) == (sign_in is None):
        raise ValueError("pass exactly one of identify= (the host app's sign-in) or sign_in=")
    if login_url is not None and identify is None:
        raise ValueError("login_url is where the host app signs people in: it needs identify=")
    if not 1 <= page_size <= 100:
        raise ValueError("page_size must be between 1 and 100")
    if live_environment not in guard.key_format.environments:
        # Else `manages_live=False` would hold nobody back: fail at start, not open.
        raise ValueError(
            f"live_environment {live_environment!r} is not one of the environments"
            f" {guard.key_format.environments}: pass the one that holds live keys"
        )


class _PageMount(Mount):
    """A `Mount` that also serves its own path: `/admin` as well as `/admin/...`. The page's
    home has no trailing slash, as `APIKeyMiddleware`'s public paths want it."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.NONE and scope["type"] == "http" and get_route_path(scope) == self.path:
            root_path = scope.get("root_path", "")
            child_scope = {
                "path_params": dict(scope.get("path_params", {})),
                "app_root_path": scope.get("app_root_path", root_path),
                "root_path": root_path + self.path,
                "endpoint": self.app,
            }
            return Match.FULL, child_scope
        return match, child_scope

"""One request to the page: who it is for, their session, and how the page answers them.

Every view is a `Handler(visit)` wrapped by `view()`: nobody signed in gets the host app's login
(or a 401 page) and never a cookie; a POST must carry the session's CSRF token and come from this
origin; keyguard's errors become pages (another account's key is the same 404 as no key).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keyguard.core import KeyguardError, NotFoundError, UnavailableError, ValidationError
from keyguard.web._json import request_id

from .identity import AdminIdentity
from .sessions import COOKIE_NAME, Session

if TYPE_CHECKING:
    from .page import AdminPage

__all__ = ["Visit", "error_page", "on_http_error", "on_server_error", "view"]

logger = logging.getLogger(__name__)
MAX_FORM_BYTES = 8 * 1024
# What a redirect's `done=` says happened: fixed texts, so nothing a person typed rides in a URL.
NOTICES = {
    "renamed": "Label saved.",
    "restricted": "Restrictions saved. Requests with this key follow them from now on.",
    "unchanged": "Nothing to save: the key's restrictions were already these.",
    "limited": "Usage limits saved. Requests with this key count against them from now on.",
    "limits-unchanged": "Nothing to save: the key's usage limits were already these.",
    "quota-reset": "Quota reset. Its count starts over from now.",
    "revoked": "Key revoked. Requests with it are refused from now on.",
    "deleted": "Key deleted.",
    "already-created": "That form was sent already. The key it made is in the list; its value"
    " is not shown again.",
    "already-rolled": "This key was rolled already. Its successor is linked below.",
}
_SIGN_IN_HELP = {
    True: "Open the sign-in link printed in the terminal where keyguard runs.",
    False: "Sign in to use this page.",
}


def base_path(request: Request) -> str:
    """Where the page is mounted: every link starts here."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def cookie_path(request: Request) -> str:
    """The session cookie's scope: the page's mount path, and nothing else of the host app."""
    return base_path(request) or "/"


def page_of(request: Request) -> AdminPage:
    return request.app.state.page  # type: ignore[no-any-return]


@dataclass(slots=True)
class Visit:
    request: Request
    identity: AdminIdentity
    session: Session
    set_cookie: bool  # a session minted on this request: send its cookie
    page: AdminPage = field(repr=False)

    @property
    def base(self) -> str:
        return base_path(self.request)

    @property
    def audit(self) -> dict[str, Any]:
        return {"actor": self.identity.actor, "request_id": request_id(self.request.scope)}

    def render(self, name: str, context: Mapping[str, Any], *, status: int = 200) -> Response:
        common = {
            "base": self.base,
            "identity": self.identity,
            "csrf": self.page.sessions.csrf_token(self.session, self.identity),
            "can_sign_out": self.session.identity is not None,
        }
        merged = {**common, "done": "", **context}
        merged["notice"] = NOTICES.get(merged["done"], "")
        response = self.page.renderer.page(self.request, name, merged, status=status)
        self.keep_session(response)
        return response

    def redirect(self, path: str, **query: str) -> Response:
        """303 to a page of ours; `query` names what happened, never anything a person typed."""
        url = self.base + path + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(url or "/", status_code=303)
        self.keep_session(response)
        return response

    def keep_session(self, response: Response) -> None:
        if self.set_cookie:
            write_cookie(response, self.request, self.page, self.session)


def write_cookie(response: Response, request: Request, page: AdminPage, session: Session) -> None:
    response.set_cookie(
        COOKIE_NAME,
        page.sessions.encode(session),
        max_age=page.sessions.lifetime,
        path=cookie_path(request),
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


Handler = Callable[[Visit], Awaitable[Response]]


def view(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        page = page_of(request)
        visit = await _visit(request, page)
        if visit is None:
            return _nobody(request, page)
        try:
            if request.method == "POST":
                await _check_post(visit)
            return await handler(visit)
        except KeyguardError as exc:
            return _keyguard_error(visit, exc)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _visit(request: Request, page: AdminPage) -> Visit | None:
    session = page.sessions.decode(request.cookies.get(COOKIE_NAME))
    if page.sign_in is not None:  # token sign-in: the session says who
        if session is None or session.identity is None:
            return None
        return Visit(request, session.identity, session, False, page)
    assert page.identify is not None
    identity = await page.identify(request)
    if identity is None:
        return None
    if session is None or session.identity is not None:
        return Visit(request, identity, page.sessions.new(), True, page)
    return Visit(request, identity, session, False, page)


def _nobody(request: Request, page: AdminPage) -> Response:
    if page.login_url is not None and request.method in ("GET", "HEAD"):
        return RedirectResponse(_login(page.login_url, request), status_code=303)
    help_text = _SIGN_IN_HELP[page.sign_in is not None]
    return error_page(request, 401, "You are not signed in", help_text)


def _login(login_url: str, request: Request) -> str:
    """The host app's login, told to come back here (a path of ours: never another site)."""
    path = request.url.path
    if path == base_path(request) + "/":
        path = base_path(request)  # the list lives at the mount path itself
    here = path + (f"?{request.url.query}" if request.url.query else "")
    separator = "&" if "?" in login_url else "?"
    return f"{login_url}{separator}{urlencode({'next': here})}"


async def _check_post(visit: Visit) -> None:
    request = visit.request
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    site = request.headers.get("sec-fetch-site", "same-origin")
    if (origin is not None and origin != own) or site not in ("same-origin", "none"):
        raise HTTPException(403, "This form was sent from another site. Nothing was changed.")
    form = await read_form(request)
    token = form.get("csrf")
    if not isinstance(token, str) or not visit.page.sessions.csrf_ok(
        visit.session, visit.identity, token
    ):
        raise HTTPException(403, "This form has expired. Reload the page and try again.")


async def read_form(request: Request) -> FormData:
    """The form, bounded: a form of this page is small, so anything big is refused unread."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():  # browsers always say how long a form is
        raise HTTPException(411, "Send the form with its length.")
    if int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, "That form is too large.")
    try:
        return await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
    except HTTPException as exc:  # malformed multipart, too many fields
        raise HTTPException(400, "That form could not be read.") from exc


def one_time_nonce(form: FormData) -> str:
    """The form's one-time nonce; a form of ours always has one, so none is a bad request."""
    nonce = form.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise HTTPException(400, "That form is incomplete. Reload the page and try again.")
    return nonce


def _keyguard_error(visit: Visit, exc: KeyguardError) -> Response:
    if isinstance(exc, NotFoundError):
        return error_page(visit.request, 404, "No such key", "It does not exist, or not here.")
    if isinstance(exc, ValidationError):
        return error_page(visit.request, 400, "That cannot be done", exc.message)
    if isinstance(exc, UnavailableError):
        logger.warning("admin page: %s", exc)
        return error_page(visit.request, 503, "Keys are unavailable", "Try again in a moment.")
    return error_page(visit.request, 409, "That cannot be done", exc.message)


def error_page(
    request: Request, status: int, title: str, text: str, headers: Mapping[str, str] | None = None
) -> Response:
    page = page_of(request)
    context = {"base": base_path(request), "title": title, "text": text, "status": status}
    return page.renderer.page(request, "error.html", context, status=status, headers=headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    text = exc.detail if exc.detail != phrase else "There is no such page here."
    return error_page(request, exc.status_code, phrase, text, exc.headers)


async def on_server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback after this answers; keyguard's messages never hold a value.
    return error_page(request, 500, "Something went wrong", "Nothing was changed. Try again.")

"""Signing in with the one-time token, and signing out."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .sessions import COOKIE_NAME
from .visit import Visit, base_path, cookie_path, error_page, page_of, write_cookie

__all__ = ["sign_in", "sign_out"]

logger = logging.getLogger(__name__)


async def sign_in(request: Request) -> Response:
    """Trade the token for a session cookie, then go to the list (the token leaves the URL)."""
    page = page_of(request)
    if request.method == "HEAD":  # a link preview must not spend the token
        return Response(status_code=204)
    if page.sign_in is None:
        return error_page(request, 404, "Not Found", "There is no such page here.")
    identity = page.sign_in.redeem(request.query_params.get("token", ""))
    if identity is None:
        logger.warning("admin page: a sign-in with a wrong or spent token")
        text = "That sign-in link was used already or is wrong. Restart keyguard for a new one."
        return error_page(request, 401, "You are not signed in", text)
    logger.info("admin page: %s signed in", identity.actor)
    response = RedirectResponse(base_path(request) or "/", status_code=303)
    write_cookie(response, request, page, page.sessions.new(identity))
    return response


async def sign_out(visit: Visit) -> Response:
    """Token sessions only: the host app's people sign out of the host app."""
    if visit.session.identity is None:
        return error_page(visit.request, 404, "Not Found", "There is no such page here.")
    visit.page.sessions.end(visit.session)
    response = error_page(visit.request, 200, "Signed out", "You can close this tab.")
    path = cookie_path(visit.request)
    response.delete_cookie(COOKIE_NAME, path=path, httponly=True, samesite="strict")
    return response

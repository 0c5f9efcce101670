"""Who is signed in: the one-time token (`keyguard demo`, `keyguard admin`) traded for a signed
session cookie, and the host app's own sign-in (`identify`), with a login redirect or a 401."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from keyguard import KeyGuard, Settings
from keyguard.demo import create_app
from keyguard.web.admin import AdminIdentity, AdminPage, TokenSignIn
from keyguard.web.admin.sessions import COOKIE_NAME

from ._page import ADMIN, PageClient

ADA = AdminIdentity(account="acme", name="ada")


def _token_app(
    guard: KeyGuard, lifetime: timedelta = timedelta(hours=8)
) -> tuple[Starlette, TokenSignIn]:
    sign_in = TokenSignIn(ADA)
    page = AdminPage(guard, sign_in=sign_in, session_lifetime=lifetime)
    return create_app(guard, admin_page=page), sign_in


@pytest.fixture
async def client() -> AsyncIterator[list[httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []
    yield made
    for http in made:
        await http.aclose()


def _browser(made: list[httpx.AsyncClient], app: Starlette, base: str) -> httpx.AsyncClient:
    made.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base))
    return made[-1]


async def test_the_token_signs_in_once(guard: KeyGuard, client: list[httpx.AsyncClient]) -> None:
    app, sign_in = _token_app(guard)
    link = sign_in.link("http://testserver/admin")
    browser = _browser(client, app, "http://testserver")
    assert (await browser.get(ADMIN)).status_code == 401  # not yet
    assert (await browser.head(link)).status_code == 204  # a link preview spends nothing
    answer = await browser.get(link)
    assert answer.status_code == 303
    assert answer.headers["location"] == ADMIN  # the token leaves the address bar
    cookie = answer.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/admin", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    page = await browser.get(ADMIN)
    assert page.status_code == 200
    assert "ada · acme" in page.text
    again = _browser(client, app, "http://testserver")
    assert (await again.get(link)).status_code == 401  # spent
    assert (await again.get(ADMIN)).status_code == 401
    assert "token" not in repr(sign_in).replace("token=<used>", "")


async def test_the_cookie_is_secure_under_https(
    guard: KeyGuard, client: list[httpx.AsyncClient]
) -> None:
    app, sign_in = _token_app(guard)
    browser = _browser(client, app, "https://testserver")
    answer = await browser.get(sign_in.link("https://testserver/admin"))
    assert "Secure" in answer.headers["set-cookie"]


async def test_a_forged_or_expired_cookie_signs_nobody_in(
    guard: KeyGuard, client: list[httpx.AsyncClient]
) -> None:
    app, sign_in = _token_app(guard, lifetime=timedelta(0))
    browser = _browser(client, app, "http://testserver")
    answer = await browser.get(sign_in.link("http://testserver/admin"))
    assert answer.status_code == 303
    assert (await browser.get(ADMIN)).status_code == 401  # expired at once
    app, sign_in = _token_app(guard)
    browser = _browser(client, app, "http://testserver")
    await browser.get(sign_in.link("http://testserver/admin"))
    good = browser.cookies[COOKIE_NAME]
    payload, mac = good.split(".")
    for forged in (f"{payload}.{mac[:-2]}xx", f"{payload[:-2]}xx.{mac}", "x", "a.b.c", ""):
        stranger = _browser(client, app, "http://testserver")
        stranger.cookies.set(COOKIE_NAME, forged, path="/admin")
        assert (await stranger.get(ADMIN)).status_code == 401, forged


async def test_sign_out_ends_the_session_for_good(
    guard: KeyGuard, client: list[httpx.AsyncClient]
) -> None:
    app, sign_in = _token_app(guard)
    browser = _browser(client, app, "http://testserver")
    await browser.get(sign_in.link("http://testserver/admin"))
    cookie = browser.cookies[COOKIE_NAME]
    page = await browser.get(ADMIN)
    assert "Sign out" in page.text
    answer = await PageClient(browser).submit(page.text, "/sign-out")
    assert answer.status_code == 200
    assert "Signed out" in answer.text
    replay = _browser(client, app, "http://testserver")
    replay.cookies.set(COOKIE_NAME, cookie, path="/admin")
    assert (await replay.get(ADMIN)).status_code == 401  # the old cookie is dead too


async def test_the_host_apps_sign_in_decides(carol: PageClient, app: Starlette) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as nobody:
        answer = await nobody.get(ADMIN + "/keys/key_x")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Fadmin%2Fkeys%2Fkey_x"
        assert "set-cookie" not in answer.headers  # nobody gets no session
        assert (await nobody.post(ADMIN + "/new")).status_code == 401
    assert "Sign out" not in (await carol.get("")).text  # the host app signs people out
    form = await carol.get("/new")
    assert (await carol.submit(form.text, "/sign-out")).status_code == 404


async def test_without_a_login_url_nobody_gets_a_401_page(guard: KeyGuard) -> None:
    async def nobody_is_signed_in(request: object) -> None:
        return None

    page = AdminPage(guard, identify=nobody_is_signed_in)
    app = create_app(guard, admin_page=page)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        answer = await http.get(ADMIN)
        assert answer.status_code == 401
        assert "Sign in to use this page." in answer.text


def test_the_page_refuses_a_confusing_set_up(guard: KeyGuard) -> None:
    sign_in = TokenSignIn(ADA)
    with pytest.raises(ValueError, match="exactly one"):
        AdminPage(guard)
    with pytest.raises(ValueError, match="login_url"):
        AdminPage(guard, sign_in=sign_in, login_url="/login")
    with pytest.raises(ValueError, match="mount"):
        AdminPage(guard, sign_in=sign_in).mount("/admin/")
    with pytest.raises(ValueError, match="owner"):
        AdminIdentity(account="a", name="n", own_keys_only=True)


async def test_the_login_redirect_comes_back_to_the_same_page(guard: KeyGuard) -> None:
    async def nobody_is_signed_in(request: object) -> None:
        return None

    page = AdminPage(guard, identify=nobody_is_signed_in, login_url="/login?app=shop")
    app = create_app(guard, admin_page=page)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        answer = await http.get(ADMIN, params={"q": "a&b", "sort": "name"})
    assert answer.headers["location"] == "/login?app=shop&next=%2Fadmin%3Fq%3Da%2526b%26sort%3Dname"


async def test_a_token_session_dies_with_its_process(
    guard: KeyGuard, client: list[httpx.AsyncClient]
) -> None:
    """A restart (a new page, perhaps for another account) takes no cookie of the last one,
    even with the same pepper: sign-out and the printed link stay the only ways in."""
    app, sign_in = _token_app(guard)
    browser = _browser(client, app, "http://testserver")
    await browser.get(sign_in.link("http://testserver/admin"))
    assert (await browser.get(ADMIN)).status_code == 200
    restarted, _ = _token_app(guard)
    after = _browser(client, restarted, "http://testserver")
    after.cookies.set(COOKIE_NAME, browser.cookies[COOKIE_NAME], path="/admin")
    assert (await after.get(ADMIN)).status_code == 401


def test_the_live_environment_must_be_one_of_the_servers(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", environments=("dev", "prod"))
    guard = KeyGuard(settings)
    with pytest.raises(ValueError, match="live_environment 'live' is not one of"):
        AdminPage(guard, sign_in=TokenSignIn(ADA))
    AdminPage(guard, sign_in=TokenSignIn(ADA), live_environment="prod")


async def test_someone_with_no_environment_left_gets_a_403_page(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", environments=("live",))
    guard = KeyGuard(settings)
    tester = AdminIdentity(account="acme", name="tess", manages_live=False)

    async def identify(request: object) -> AdminIdentity:
        return tester

    app = create_app(guard, admin_page=AdminPage(guard, identify=identify))
    await guard.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for path in ("", "/new"):
                answer = await http.get(ADMIN + path)
                assert answer.status_code == 403
                assert "any environment" in answer.text
    finally:
        await guard.stop()

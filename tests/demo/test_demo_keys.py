"""`ensure_demo_keys`, and the banner `keyguard demo` prints: its curl lines do what they say."""

from __future__ import annotations

import shlex
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, KeyQuery, KeyStatus, Settings
from keyguard.demo import create_app, demo_banner, ensure_demo_keys, store_location

from ._support import data_of, mint

BASE = "http://127.0.0.1:8000"


async def test_an_empty_database_gets_a_secret_and_a_publishable_test_key(
    guard: KeyGuard,
) -> None:
    keys = await ensure_demo_keys(guard)
    assert [(k.record.access.value, k.record.environment) for k in keys] == [
        ("secret", "test"),
        ("publishable", "test"),
    ]
    assert {k.record.account for k in keys} == {"demo"}
    assert keys[0].value.startswith("sk_test_")
    assert keys[1].value.startswith("pk_test_")
    listed = await guard.manager.list(KeyQuery(status=KeyStatus.ACTIVE))
    assert {r.id for r in listed.items} == {k.record.id for k in keys}


async def test_a_second_run_mints_nothing(guard: KeyGuard) -> None:
    assert len(await ensure_demo_keys(guard)) == 2
    assert await ensure_demo_keys(guard) == []
    assert len((await guard.manager.list(KeyQuery())).items) == 2


async def test_any_active_key_means_nothing_is_minted(guard: KeyGuard) -> None:
    await mint(guard, "publishable", "live", account="elsewhere")
    assert await ensure_demo_keys(guard) == []


async def test_revoked_keys_do_not_count(guard: KeyGuard) -> None:
    old = await mint(guard, "secret", "test")
    await guard.manager.revoke(old.record.id)
    assert len(await ensure_demo_keys(guard)) == 2


async def test_it_starts_a_guard_that_was_not_started(guard: KeyGuard) -> None:
    await guard.stop()
    assert len(await ensure_demo_keys(guard)) == 2
    assert guard.started


async def test_the_banner_shows_both_values_and_ready_curl_lines(guard: KeyGuard) -> None:
    sk, pk = await ensure_demo_keys(guard)
    banner = demo_banner([sk, pk], BASE + "/")
    assert sk.value in banner and pk.value in banner
    assert f'curl -H "Authorization: Bearer {sk.value}" {BASE}/v1/me' in banner
    assert f'curl -H "Authorization: Bearer {pk.value}" {BASE}/v1/storefront/products' in banner
    assert f'curl -X POST -H "Authorization: Bearer {sk.value}"' in banner
    assert f'curl -X POST -H "Authorization: Bearer {pk.value}"' in banner
    assert "403" in banner


async def test_every_curl_line_in_the_banner_gets_the_status_it_promises(
    guard: KeyGuard,
) -> None:
    banner = demo_banner(await ensure_demo_keys(guard), BASE)
    commands = _curl_commands(banner)
    transport = httpx.ASGITransport(app=create_app(guard))
    async with httpx.AsyncClient(transport=transport) as client:
        statuses = [(await client.send(c)).status_code for c in commands]
    # index, health, me, list (pk), POST (sk), POST (pk), no key
    assert statuses == [200, 200, 200, 200, 201, 403, 401]


async def test_without_new_keys_the_banner_says_how_to_mint_one(guard: KeyGuard) -> None:
    banner = demo_banner([], BASE)
    assert "keyguard keys create" in banner
    assert f'curl -H "Authorization: Bearer sk_test_..." {BASE}/v1/me' in banner
    assert "pk_test_..." in banner
    assert "_test_" not in banner.replace("sk_test_...", "").replace("pk_test_...", "")


async def test_the_banner_posts_a_product_the_storefront_accepts(guard: KeyGuard) -> None:
    banner = demo_banner(await ensure_demo_keys(guard), BASE)
    post = next(c for c in _curl_commands(banner) if c.method == "POST")
    transport = httpx.ASGITransport(app=create_app(guard))
    async with httpx.AsyncClient(transport=transport) as client:
        assert data_of(await client.send(post), 201)["name"] == "Demo Mug"


def _curl_commands(banner: str) -> list[httpx.Request]:
    """Each `curl` in the banner as a request (continuation lines joined)."""
    text = banner.replace("\\\n", " ")
    return [_curl(shlex.split(line.strip())) for line in text.splitlines() if "curl " in line]


def _curl(argv: list[str]) -> httpx.Request:
    assert argv[0] == "curl"
    method, headers, content, url = "GET", {}, None, ""
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(": ")
            headers[name] = value
        elif arg == "-d":
            content = next(args).encode()
        else:
            url = arg
    return httpx.Request(method, url, headers=headers, content=content)


def test_the_banner_gives_the_admin_pages_sign_in_link_or_how_to_get_the_page() -> None:
    link = BASE + "/admin/sign-in?token=abc"
    assert f"  {link}\n" in demo_banner([], BASE, admin_sign_in=link)
    without = demo_banner([], BASE)
    assert "sign-in" not in without
    assert "pip install 'keyguard[admin]'" in without


def test_the_banner_says_where_the_keys_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = KeyGuard(Settings(database_url="sqlite:///keys.db"))
    where = store_location(relative)
    assert where.startswith(f"{tmp_path / 'keys.db'} ")  # absolute, whatever the URL said
    assert f"\nKey store: {where}\n" in demo_banner([], BASE, store=where)
    assert "Key store" not in demo_banner([], BASE)
    assert store_location(KeyGuard(Settings(database_url="sqlite://"))).startswith("memory")
    postgres = KeyGuard(Settings(database_url="postgresql://ann:hunter2@db.example/keys"))
    assert "hunter2" not in store_location(postgres)
    assert "db.example/keys" in store_location(postgres)

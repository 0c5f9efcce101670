"""The README documents the key format for secret scanners: its snippet must agree with us."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard import Access, KeyFormat

README = Path(__file__).resolve().parent.parent / "README.md"


def python_block(marker: str) -> str:
    """The README's Python example that holds `marker`."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return next(b for b in blocks if marker in b)


def _scanner() -> Any:
    block = python_block("def looks_like")
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["looks_like_a_keyguard_key"]


SCANNER = _scanner()
FORMAT = KeyFormat()


def test_the_readme_starts_with_the_two_setup_commands() -> None:
    lines = README.read_text().splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert len(block) == 2
    assert "keyguard demo" in block[0]
    assert block[1] == "bash scripts/test"
    assert "scripts/test" in (README.parent / ".ci" / "run").read_text()


@given(
    st.sampled_from(list(Access)),
    st.sampled_from(["test", "live"]),
    st.text(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=32, max_size=32
    ),
)
def test_the_readme_scanner_accepts_every_key(access: Access, env: str, random: str) -> None:
    assert SCANNER(FORMAT.compose(access, env, random))


@given(st.data())
def test_the_readme_scanner_rejects_what_we_reject(data: st.DataObject) -> None:
    key = FORMAT.generate(Access.SECRET, "live")
    i = data.draw(st.integers(8, len(key) - 1))
    ch = data.draw(
        st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    )
    corrupted = key[:i] + ch + key[i + 1 :]
    assert SCANNER(corrupted) == FORMAT.is_well_formed(corrupted)


def test_the_readmes_pictures_exist() -> None:
    for name in re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", README.read_text()):
        assert (README.parent / name).stat().st_size > 10_000, name


async def test_the_readmes_admin_page_example_serves_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example as written: nobody goes to the login, a signed-in user sees the page."""
    import types

    import httpx

    block = python_block("AdminPage(")
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/keys.db")
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    app, guard = namespace["app"], namespace["guard"]
    user = types.SimpleNamespace(team_id="acme", email="ann@acme.test", id="u1", is_admin=True)

    async def signed_in(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "user": user}, receive, send)

    await guard.start()
    try:
        for asgi, expected in ((app, 303), (signed_in, 200)):
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                answer = await http.get("/settings/api-keys")
                assert answer.status_code == expected, answer.text
        assert "ann@acme.test · acme" in answer.text
    finally:
        await guard.stop()


def test_the_readmes_uvicorn_log_config_redacts_keys() -> None:
    import io
    import logging
    import logging.config

    from keyguard import Access

    block = python_block("Redacting")
    namespace: dict[str, Any] = {}
    code = block.replace('uvicorn.run("app:app", log_config=log_config)', "")
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    access = logging.getLogger("uvicorn.access")
    saved = access.handlers[:], access.propagate, access.level
    try:
        logging.config.dictConfig(namespace["log_config"])
        stream = io.StringIO()
        access.handlers[0].stream = stream  # type: ignore[attr-defined]
        key = FORMAT.generate(Access.SECRET, "live")
        args = ("127.0.0.1", "GET", f"/x?k={key}", "1.1", 401)  # as uvicorn logs a request
        access.info('%s - "%s %s HTTP/%s" %d', *args)
        assert key not in stream.getvalue()
        assert "sk_live_…" + key[-4:] in stream.getvalue()
    finally:
        access.handlers[:], access.propagate = saved[0], saved[1]
        access.setLevel(saved[2])


def test_the_readmes_scanner_rules_find_keys_and_only_keys() -> None:
    import tomllib

    from keyguard import Access

    text = README.read_text()
    toml_block = re.findall(r"```toml\n(.*?)```", text, re.S)[0]
    gitleaks = tomllib.loads(toml_block)["rules"][0]["regex"]
    yaml_block = re.findall(r"```yaml\n(.*?)```", text, re.S)[0]
    trufflehog = re.search(r"key: '(.*)'", yaml_block)
    assert trufflehog is not None
    keys = [FORMAT.generate(a, e) for a in Access for e in ("test", "live")]
    for pattern in (gitleaks, trufflehog.group(1)):
        for key in keys:
            assert re.findall(pattern, f'token = "{key}"\n') == [key]
        for other in (
            "sk_live_short",
            "xsk_live_" + "a" * 38,
            "sk_live_" + "a" * 39,
            "ak_x_" + "a" * 38,
        ):
            assert re.findall(pattern, other) == [], other


async def test_the_readmes_secret_scanning_example_revokes_a_reported_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from ._github_keys import KeyDocumentServer, SigningKey, report

    block = python_block("Scanning")
    monkeypatch.setenv("KEYGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/keys.db")
    github_key = SigningKey()
    with KeyDocumentServer(github_key) as github:
        code = block.replace(
            "SecretScanningEndpoint(guard)",
            f"SecretScanningEndpoint(guard, public_keys_url={github.url!r})",
        )
        namespace: dict[str, Any] = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        app, guard = namespace["app"], namespace["guard"]
        async with guard:
            created = await guard.manager.create(
                account="acme", name="pushed", environment="live", access="secret"
            )
            body = report(created.value)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                answer = await http.post(
                    "/github/secret-scanning", content=body, headers=github_key.headers(body)
                )
            assert answer.json()[0]["label"] == "true_positive", answer.text
            assert (await guard.manager.get(created.record.id)).revoked_at is not None


def test_the_readmes_testing_example_is_the_test_file_the_suite_runs() -> None:
    """tests/testing/test_readme_example.py runs with the suite; the README quotes it whole,
    and enables the plugin as our own conftest.py does."""
    example = (README.parent / "tests" / "testing" / "test_readme_example.py").read_text()
    body = example.split('"""', 2)[2].lstrip("\n")
    assert python_block("from keyguard.testing import") == body
    enable = python_block("pytest_plugins")
    assert enable.strip() in (README.parent / "tests" / "conftest.py").read_text()

"""`keyguard admin`: the admin page alone, on 127.0.0.1, for one account, signed in by the
one-time link it prints; run as a user runs it, in a process of its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from .._keyguard_process import KeyguardProcess, clean_env, run_cli

KEY_ID = re.compile(r"/admin/keys/(key_[0-9A-Za-z]+)\"")


def _create(cwd: Path, account: str, name: str) -> str:
    out = run_cli(cwd, "keys", "create", "--account", account, "--name", name, "--env", "test",
                  "--access", "secret", "--json")  # fmt: skip
    return str(json.loads(out)["id"])


def test_the_page_serves_one_account_to_whoever_has_the_link(tmp_path: Path) -> None:
    mine, theirs = _create(tmp_path, "acme", "Acme's"), _create(tmp_path, "other", "Other's")
    with KeyguardProcess(["admin", "--account", "acme", "--owner", "ops"], tmp_path) as server:
        assert server.sign_in_link.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.base_url, trust_env=False) as browser:
            assert browser.get("/admin").status_code == 401
            landed = browser.get(server.sign_in_link, follow_redirects=True)
            assert landed.status_code == 200
            assert KEY_ID.findall(landed.text) == [mine]
            assert browser.get(f"/admin/keys/{theirs}").status_code == 404
            form = browser.get("/admin/new").text
            token, nonce = (
                re.search(f'name="{n}" value="([^"]+)"', form) for n in ("csrf", "nonce")
            )
            assert token and nonce
            created = browser.post("/admin/new", data={
                "csrf": token.group(1), "nonce": nonce.group(1), "access": "secret",
                "environment": "test", "label": "From the page",
            })  # fmt: skip
            assert created.status_code == 201
        with httpx.Client(trust_env=False) as stranger:
            assert stranger.get(server.sign_in_link).status_code == 401  # spent
    listed = json.loads(run_cli(tmp_path, "keys", "list", "--account", "acme", "--json"))
    made = next(k for k in listed if k["name"] == "From the page")
    assert made["owner"] == "ops"
    audit = json.loads(run_cli(tmp_path, "audit", "--key", made["id"], "--json"))
    assert audit[0]["actor"].startswith("person:")


def test_a_bad_account_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "keyguard", "admin", "--account", " "],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "account" in done.stderr

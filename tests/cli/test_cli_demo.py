"""`keyguard demo` as a user runs it: a real process on 127.0.0.1, keys printed, Ctrl-C stops it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KEY = re.compile(rb"([sp]k_test_[0-9A-Za-z]{38})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def default_sigint() -> None:
    """For `Popen(preexec_fn=...)`: Ctrl-C as a terminal delivers it. A shell that runs the
    suite in the background ignores SIGINT, children inherit that, and a process that ignores
    SIGINT at start keeps ignoring it after uvicorn's shutdown, so it exits 0, not 130."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    return subprocess.Popen(
        [sys.executable, "-m", "keyguard", "demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )  # fmt: skip


def _banner_keys(process: subprocess.Popen[bytes], seen: list[bytes]) -> dict[str, str]:
    """The two values the banner prints; every line read on the way is added to `seen`."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(found) < 2 and time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, "the demo stopped before printing its keys"
        seen.append(line)
        for key in KEY.findall(line):
            found[key[:2].decode()] = key.decode()
    return found


def _wait_until_serving(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the demo never answered")


def test_the_demo_serves_on_sqlite_with_the_keys_it_prints(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port)
    banner: list[bytes] = []
    try:
        keys = _banner_keys(process, banner)
        _wait_until_serving(base)
        index = httpx.get(f"{base}/")  # no key: what to try
        assert index.status_code == 200
        assert {"method": "GET", "path": "/health", "key": "none"}.items() <= (
            index.json()["data"]["try"][0].items()
        )
        me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {keys['sk']}"})
        assert me.status_code == 200
        assert me.json()["data"]["prefix"] == "sk_test_"
        assert keys["sk"] not in me.text
        listing = httpx.get(f"{base}/v1/storefront/products", headers={"Authorization": keys["pk"]})
        assert listing.status_code == 200
        assert httpx.get(f"{base}/v1/me").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err.decode()[-2000:]  # Ctrl-C's exit status
    assert b"Traceback" not in err
    store = (tmp_path / "keyguard.db").resolve()
    assert store.exists()
    assert f"Key store: {store} ".encode() in b"".join(banner)
    for key in keys.values():
        assert key.encode() not in err  # the server's log never shows a value


def test_a_second_run_mints_nothing_and_says_why(tmp_path: Path) -> None:
    for run in range(2):
        port = _free_port()
        process = _start(tmp_path, port)
        try:
            _wait_until_serving(f"http://127.0.0.1:{port}")
        finally:
            process.send_signal(signal.SIGINT)
            out, _ = process.communicate(timeout=30)
        assert bool(KEY.search(out)) is (run == 0)
    assert b"none were minted" in out


def test_the_readme_puts_the_demos_store_where_it_is() -> None:
    """The test above finds the file in the folder the demo ran from: the README says so."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    opening = " ".join(readme.split("\n## ", 1)[0].split())
    assert "the file `keyguard.db` in the current folder" in opening
    assert "prints its absolute path" in opening

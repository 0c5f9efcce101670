"""A key in a URL is refused with a 401 that says why, before any lookup, even beside a valid
Authorization header (issue 11, finding 4); and keyguard's demo servers log no key, wherever a
client put it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from keyguard import KeyGuard
from keyguard.web._envelope import KEY_IN_URL_MESSAGE

from .._keyguard_process import KEY_VALUE, KeyguardProcess
from .conftest import mint


async def test_a_key_in_the_query_string_is_refused_and_told_why(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    good = await mint(guard)
    unknown = await mint(guard)
    await guard.manager.revoke((await guard.verifier.verify(unknown)).id)  # type: ignore[union-attr]
    for query in (f"api_key={good}", f"x=1&token={unknown}", f"k={good}&k=2"):
        answer = await client.get(f"/v1/me?{query}", headers={"authorization": f"Bearer {good}"})
        assert answer.status_code == 401
        assert answer.json()["error"]["message"] == KEY_IN_URL_MESSAGE
        assert good not in answer.text and unknown not in answer.text
    fine = await client.get("/v1/me?page=2", headers={"authorization": f"Bearer {good}"})
    assert fine.status_code == 200
    assert (await client.get(f"/health?key={good}")).status_code == 200  # public: not ours


def test_the_demo_logs_no_key_wherever_a_client_puts_it(tmp_path: Path) -> None:
    with KeyguardProcess(["demo"], tmp_path) as demo:
        secret = next(k for k in demo.keys if k.startswith("sk_"))
        auth = {"authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=demo.base_url, trust_env=False) as http:
            assert http.get(f"/v1/me?api_key={secret}").status_code == 401
            assert http.get(f"/v1/storefront/products/{secret}", headers=auth).status_code == 404
            assert http.get(f"/v1/storefront/public/{secret}", headers=auth).status_code == 404
            assert http.get("/v1/me", headers={**auth, "x-request-id": secret}).status_code == 200
            assert http.get("/v1/me", headers={"authorization": secret + "x"}).status_code == 401
        demo.stop()
    log = demo.output().split("Uvicorn running", 1)[1]  # after the banner, which shows keys
    assert "GET /v1/me?api_key=sk_test_…" in log  # the access log is there, redacted
    assert KEY_VALUE.findall(log) == []
    assert not re.search(secret[8:30], log)

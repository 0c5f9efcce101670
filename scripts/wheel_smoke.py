"""The installed wheel works: mint a key, let a request through with it, revoke it, see the next
request refused.

Run by scripts/wheel-smoke with a fresh virtualenv's Python, from a directory outside the
checkout: `python -I wheel_smoke.py VENV WORKDIR VERSION`. Exits non-zero with one line saying
what broke.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import keyguard
from keyguard import APIKeyMiddleware, KeyGuard, Settings


def require(ok: bool, failure: str) -> None:
    if not ok:
        sys.exit(f"wheel-smoke: FAILED: {failure}")


def check_the_installed_package(venv: Path, version: str) -> None:
    package = Path(keyguard.__file__).resolve().parent
    # A checkout on sys.path would pass every other check while the wheel stays untested.
    require(package.is_relative_to(venv.resolve()), f"keyguard imported from {package}, not {venv}")
    require((package / "py.typed").is_file(), f"no py.typed in {package}")
    require(keyguard.__version__ == version, f"__version__ {keyguard.__version__!r} != {version!r}")


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.state.api_key.name}")


async def mint_verify_revoke(workdir: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{workdir}/smoke.db", pepper="wheel-smoke")
    guard = KeyGuard(settings)
    app = Starlette(
        routes=[Route("/", hello)], middleware=[Middleware(APIKeyMiddleware, guard=guard)]
    )
    transport = httpx.ASGITransport(app=app)
    async with guard, httpx.AsyncClient(transport=transport, base_url="http://smoke") as client:
        created = await guard.manager.create(
            account="smoke", name="wheel", environment="test", access="secret"
        )
        headers = {"Authorization": f"Bearer {created.value}"}
        answer = await client.get("/", headers=headers)
        require(answer.status_code == 200, f"a fresh key got {answer.status_code}: {answer.text}")
        require(answer.text == "hello wheel", f"the app saw {answer.text!r}")
        await guard.manager.revoke(created.record.id)
        answer = await client.get("/", headers=headers)
        require(answer.status_code == 401, f"a revoked key got {answer.status_code}")


def main() -> None:
    venv, workdir, version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    check_the_installed_package(venv, version)
    asyncio.run(mint_verify_revoke(workdir))
    print(f"wheel-smoke: keyguard {version} from {venv}: minted, verified, revoked (401)")


if __name__ == "__main__":
    main()

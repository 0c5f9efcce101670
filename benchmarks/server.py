"""The server the end-to-end runs start: `python -m benchmarks.server APP PORT WORKERS HTTP`,
uvicorn on 127.0.0.1 with uvloop, the app chosen by name, the environment from BENCH_ENV.

It is a child of the benchmark run, in a process group of its own that the run ends.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from . import alternatives as alt
from .apps import bare_fastapi, bare_starlette, keyguard_app
from .environment import BenchEnv

__all__ = ["APPS", "app_from_env"]

APPS: dict[str, Callable[[BenchEnv], ASGIApp]] = {
    "bare.starlette": lambda env: bare_starlette(),
    "bare.fastapi": lambda env: bare_fastapi(),
    # As deployed: Postgres + Redis, keyguard's default local cache (1 s TTL). The failure
    # limit is off: the revocation probes fail on purpose, and with Redis every process (and
    # every later run's) would count them against 127.0.0.1.
    "keyguard": lambda env: keyguard_app(env, unlimited_failures=True),
    "keyguard.sqlite": lambda env: keyguard_app(
        env, store="sqlite", redis=env.redis_url is not None, unlimited_failures=True
    ),
    "alt.starlette_auth": alt.starlette_auth_app,
    "alt.base_http": alt.base_http_app,
    "alt.fastapi_header": alt.fastapi_header_app,
    "alt.keyshield": functools.partial(alt.keyshield_app, delay=True),
    "alt.keyshield_nodelay": functools.partial(alt.keyshield_app, delay=False),
}


def app_from_env() -> ASGIApp:
    """uvicorn's app factory, in every worker."""
    return APPS[os.environ["BENCH_APP"]](BenchEnv.from_json(os.environ["BENCH_ENV"]))


def main(argv: list[str]) -> None:
    app, port, workers, http = argv
    os.environ["BENCH_APP"] = app  # read by app_from_env, in this process and in workers
    uvicorn.run(
        "benchmarks.server:app_from_env",
        factory=True,
        host="127.0.0.1",
        port=int(port),
        workers=int(workers),
        loop="uvloop",
        http=http,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main(sys.argv[1:])

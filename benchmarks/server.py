"""The server the end-to-end runs start: `python -m benchmarks.server APP PORT HTTP [WORKERS]`,
uvicorn on 127.0.0.1 with uvloop (one worker unless WORKERS says more), the app chosen by name,
this run's environment from BENCH_ENV. A process of its own, so the load generator measures a
real server and socket.

It is a child of the benchmark run, in a process group of its own that the run ends (uvicorn's
workers are in that group too).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from .apps import bare_starlette, keyguard_app
from .cases import ALTERNATIVES
from .environment import BenchEnv

__all__ = ["APPS", "app_from_environ"]

APPS: dict[str, Callable[[BenchEnv], ASGIApp]] = {
    "bare.starlette": lambda env: bare_starlette(),
    # As deployed: Postgres + Redis, keyguard's default local cache (1 s TTL).
    "keyguard": lambda env: keyguard_app(env),
    **ALTERNATIVES,
}


def app_from_environ() -> ASGIApp:
    """The app each worker builds for itself (uvicorn's workers import it by name)."""
    return APPS[os.environ["BENCH_APP"]](BenchEnv.from_json(os.environ["BENCH_ENV"]))


def main(argv: list[str]) -> None:
    name, port, http, *more = argv
    workers = int(more[0]) if more else 1
    os.environ["BENCH_APP"] = name
    uvicorn.run(
        "benchmarks.server:app_from_environ" if workers > 1 else app_from_environ(),
        factory=workers > 1,
        workers=workers,
        host="127.0.0.1",
        port=int(port),
        loop="uvloop",
        http=http,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main(sys.argv[1:])

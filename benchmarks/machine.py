"""What ran where: the machine, and the versions of everything measured."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .environment import Availability, BenchEnv, wrk_version

__all__ = ["describe_machine", "versions"]

PACKAGES = (
    "keyguard", "starlette", "uvicorn", "uvloop", "fastapi", "asyncpg", "redis", "blake3",
    "h11", "httptools", "keyshield", "sqlalchemy", "argon2-cffi",
)  # fmt: skip


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        return f"{int(first.split()[1]) / 1024**2:.0f} GB RAM"
    return "RAM unknown"


def describe_machine() -> str:
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gb()},"
        f" {platform.system()} {platform.release()}"
    )


def _package(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


async def _postgres_version(url: str | None) -> str | None:
    if url is None:
        return None
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()


async def _redis_version(url: str | None) -> str | None:
    if url is None:
        return None
    client = aioredis.Redis.from_url(url, socket_timeout=2)
    try:
        return str((await client.info("server"))["redis_version"])
    except RedisError:
        return None
    finally:
        await client.aclose()


def _revision() -> str | None:
    """The checkout measured (`git describe --always --dirty`), when it is one."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    args = ["git", "-C", str(root), "describe", "--always", "--dirty"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=5, check=False)
    return done.stdout.strip() or None


async def versions(env: BenchEnv, avail: Availability, http: str) -> dict[str, str]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    found.update({name: _package(name) for name in PACKAGES})
    found["keyguard checkout"] = _revision()
    found["postgresql"] = await _postgres_version(env.database_url)
    found["redis-server"] = await _redis_version(env.redis_url)
    found["wrk"] = wrk_version(avail.wrk)
    parser = (
        "httptools" if http == "httptools" or (http == "auto" and found["httptools"]) else "h11"
    )
    found["uvicorn http"] = parser
    return {name: value for name, value in found.items() if value is not None}

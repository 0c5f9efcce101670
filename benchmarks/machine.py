"""What ran where: the machine, and the versions of everything measured. Figures mean little
without them, so they head every report.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from .environment import BenchEnv

__all__ = ["describe_machine", "versions"]

PACKAGES = (
    "keyguard", "starlette", "uvicorn", "uvloop", "fastapi", "asyncpg", "redis", "blake3",
    "h11", "httptools",
)  # fmt: skip


def describe_machine() -> str:
    cpu, memory = platform.processor() or "unknown CPU", "RAM unknown"
    with contextlib.suppress(OSError, ValueError, IndexError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line for line in lines if line.startswith("model name")).split(":", 1)[1]
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory = f"{int(first.split()[1]) / 1024**2:.0f} GB RAM"
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu.strip()}, {os.cpu_count()} cores, {memory}, {system}"


def _package(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _output(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=5, check=False)
    return done.stdout or done.stderr


def _tools() -> dict[str, str | None]:
    """The checkout measured (`git describe`), and wrk's version."""
    root = Path(__file__).resolve().parent.parent
    found: dict[str, str | None] = {"keyguard checkout": None, "wrk": None}
    if (root / ".git").exists():
        revision = _output("git", "-C", str(root), "describe", "--always", "--dirty")
        found["keyguard checkout"] = revision.strip() or None
    wrk = shutil.which("wrk")
    if wrk is not None:
        words = _output(wrk, "-v").split()  # "wrk debian/4.1.0-3+b2 [epoll] Copyright..."
        found["wrk"] = words[1] if len(words) > 1 and words[0] == "wrk" else "unknown"
    return found


async def versions(env: BenchEnv, http: str) -> dict[str, str]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    found.update({name: _package(name) for name in PACKAGES})
    found.update(_tools())
    conn = await asyncpg.connect(env.database_url, timeout=5)
    try:
        found["postgresql"] = str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(env.redis_url, socket_timeout=2)
    try:
        found["redis-server"] = str((await client.info("server"))["redis_version"])
    finally:
        await client.aclose()
    httptools = http == "httptools" or (http == "auto" and found["httptools"])
    found["uvicorn http"] = "httptools" if httptools else "h11"
    return {name: value for name, value in found.items() if value is not None}

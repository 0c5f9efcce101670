"""A client that runs inside a host's namespace, so the test can still ask that host's server
while the host is cut off from the network (and so from the test's own client).

The test writes one JSON command a line on the probe's stdin (key values go there, never on
its command line) and reads one JSON answer a line from its stdout:

    {"url": ..., "values": {label: key}, "until": monotonic, "every": seconds}
    -> {label: [[sent, done, status], ...]}

Each label is asked in a loop of its own, one request at a time, until `until` (the machine's
monotonic clock, which every namespace shares with the test), so one slow answer (a store
lookup waiting out its timeout) does not hold up the others.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

__all__ = ["Answer", "Probe"]

Answer = tuple[float, float, int]  # sent, done (monotonic), status
_PING = "/v1/ping"


class Probe:
    """The probe process in a namespace (`wrapper`: `ip netns exec <ns>`), killed by `close`."""

    def __init__(self, wrapper: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "tests.hosts._probe"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, url: str, values: dict[str, str], until: float, every: float) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        command = {"url": url, "values": values, "until": until, "every": every}
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the probe exited ({self.process.poll()})"
        return json.loads(line)

    async def watch(
        self, url: str, values: dict[str, str], *, until: float, every: float = 0.02
    ) -> dict[str, list[Answer]]:
        """Every answer `url` gave for each key, asked in turn from inside, until `until`."""
        found = await asyncio.to_thread(self._ask, url, values, until, every)
        return {label: [(s, d, int(code)) for s, d, code in rows] for label, rows in found.items()}

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the probe's end of input: it exits by itself
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


async def _loop(
    http: httpx.AsyncClient, url: str, value: str, until: float, every: float
) -> list[Answer]:
    answers: list[Answer] = []
    while time.monotonic() < until:
        sent = time.monotonic()
        try:
            response = await http.get(url + _PING, headers={"Authorization": f"Bearer {value}"})
            status = response.status_code
        except httpx.TransportError:
            status = 0  # no answer at all: the test fails on it, as on any status it forbids
        answers.append((sent, time.monotonic(), status))
        await asyncio.sleep(every)
    return answers


async def _serve(stdin: IO[str], stdout: IO[str]) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as http:
        while line := await asyncio.to_thread(stdin.readline):
            command = json.loads(line)
            labels = list(command["values"])
            found = await asyncio.gather(
                *(
                    _loop(http, command["url"], command["values"][label], *_timing(command))
                    for label in labels
                )
            )
            stdout.write(json.dumps(dict(zip(labels, found, strict=True))) + "\n")
            stdout.flush()


def _timing(command: dict[str, Any]) -> tuple[float, float]:
    return float(command["until"]), float(command["every"])


if __name__ == "__main__":
    asyncio.run(_serve(sys.stdin, sys.stdout))

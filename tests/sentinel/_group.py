"""A Sentinel-monitored Redis of a test's own: a master, one replica and three sentinels, each a
real `redis-server` on a free port of 127.0.0.1, killed (only these) when the group stops."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import redis

from tests.e2e._faults import HOST, free_port

__all__ = ["HOST", "SERVICE", "SentinelGroup"]

SERVICE = "kgmaster"
QUORUM = 2


class SentinelGroup:
    def __init__(self, work_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError(
                "redis-server is not installed: apt-get install redis-server (its --sentinel"
                " mode runs the sentinels; Debian's redis-sentinel package works too)"
            )
        self.binary = binary
        self.dir = work_dir / f"sentinel-{os.getpid()}-{secrets.token_hex(3)}"
        self.dir.mkdir(parents=True)
        self.master_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.url = "redis+sentinel://{}/{}/0".format(
            ",".join(f"{HOST}:{p}" for p in self.sentinel_ports), SERVICE
        )
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    # --- starting and stopping ----------------------------------------------------------

    def start(self) -> None:
        self.start_redis(self.master_port)
        self.start_redis(self.replica_port, "--replicaof", HOST, str(self.master_port))
        for port in self.sentinel_ports:
            conf = self.dir / f"sentinel-{port}.conf"  # sentinels rewrite it: a file of its own
            conf.write_text(
                f"port {port}\nbind {HOST}\ndir {self.dir}\n"
                f"sentinel monitor {SERVICE} {HOST} {self.master_port} {QUORUM}\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 5000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            self._spawn(port, str(conf), "--sentinel")
        self.wait_until_known()

    def start_redis(self, port: int, *extra: str) -> None:
        args = ["--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        self._spawn(port, *args, "--dir", str(self.dir), *extra)
        self._until(lambda: self.node(port).ping(), f"redis-server on {port} to answer")

    def _spawn(self, port: int, *args: str) -> None:
        log = (self.dir / f"{port}-{len(self._logs)}.log").open("wb")
        self._logs.append(log)
        self.processes[port] = subprocess.Popen(
            [self.binary, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def kill(self, port: int) -> None:
        """SIGKILL: no goodbye to clients, as a crash."""
        process = self.processes.pop(port)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)

    def stop(self) -> None:
        for port in list(self.processes):
            self.kill(port)
        for log in self._logs:
            log.close()

    # --- what the sentinels say -----------------------------------------------------------

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=2)

    def ask(self, port: int, *command: str) -> object:
        client = self.node(port)
        try:
            return client.execute_command(*command)  # type: ignore[no-untyped-call]
        finally:
            client.close()

    def master_port_now(self, sentinel_port: int | None = None) -> int:
        port = self.sentinel_ports[0] if sentinel_port is None else sentinel_port
        answer = self.ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        assert isinstance(answer, list | tuple)
        return int(answer[1])

    def wait_until_known(self) -> None:
        """Until every sentinel knows the master, its replica and the two other sentinels."""

        def known() -> bool:
            for port in self.sentinel_ports:
                client = self.node(port)
                try:
                    state = client.sentinel_master(SERVICE)
                    assert isinstance(state, dict)
                finally:
                    client.close()
                if state["num-slaves"] != 1 or state["num-other-sentinels"] != 2:
                    return False
            return True

        self._until(known, "the sentinels to know the master, the replica and each other", 30)

    def wait_for_master(self, port: int, within: float = 30) -> None:
        """Until all sentinels name `port` as the master."""
        self._until(
            lambda: all(self.master_port_now(s) == port for s in self.sentinel_ports),
            f"the sentinels to name {port} the master",
            within,
        )

    def _until(self, check: object, what: str, within: float = 15) -> None:
        deadline = time.monotonic() + within
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if check():  # type: ignore[operator]
                    return
            for port, process in self.processes.items():
                assert process.poll() is None, f"redis-server on {port} exited (see {self.dir})"
            assert time.monotonic() < deadline, f"timed out after {within} s waiting for {what}"
            time.sleep(0.05)

"""A throwaway Redis Cluster of the machine's `redis-server`: 3 masters and 3 replicas on free
ports of 127.0.0.1, in a directory of its own, killed (only its own processes) at the end."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import redis

from ..e2e._faults import HOST, free_port

__all__ = ["Cluster", "running_cluster"]

MASTERS = 3
_INSTALL = "apt-get install -y redis-server redis-tools"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {_INSTALL}", pytrace=False)
    return found


class Cluster:
    """The nodes by port; `url` names them all, as a deployment would (any one is enough)."""

    def __init__(self, directory: Path) -> None:
        self.server = _binary("redis-server")
        self.cli = _binary("redis-cli")
        self.directory = directory
        self.ports = [free_port() for _ in range(2 * MASTERS)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self.url = "redis+cluster://" + ",".join(f"{HOST}:{port}" for port in self.ports)

    def start_node(self, port: int) -> None:
        log = (self.directory / f"redis-{port}.log").open("ab")
        self._logs.append(log)
        self.processes[port] = subprocess.Popen(
            [
                self.server,
                *("--port", str(port), "--bind", HOST),
                # The bus port named, not port + 10000: that may be past 65535 or taken.
                *("--cluster-port", str(free_port())),
                *("--cluster-enabled", "yes"),
                *("--cluster-config-file", str(self.directory / f"nodes-{port}.conf")),
                *("--cluster-node-timeout", "1000"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                # A replica syncs at once (the default waits 5 s for more replicas to share it).
                *("--repl-diskless-sync-delay", "0"),
                # CLUSTER SLOTS lists a replica once its offset moved: the first ping moves it.
                *("--repl-ping-replica-period", "1"),
            ],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def start(self) -> None:
        for port in self.ports:
            self.start_node(port)
        for port in self.ports:
            self._until(lambda p=port: self.node(p).ping(), f"node {port} answers")
        created = subprocess.run(
            [
                self.cli,
                "--cluster",
                "create",
                *(f"{HOST}:{port}" for port in self.ports),
                *("--cluster-replicas", "1", "--cluster-yes"),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stdout.decode()[-2000:]
        self.wait_healthy()

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=2)

    def live_ports(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.poll() is None]

    def info(self, port: int) -> dict[str, str]:
        with self.node(port) as client:
            return client.execute_command("CLUSTER INFO")  # type: ignore[no-any-return]

    def masters(self) -> dict[int, str]:
        """Live masters serving slots, port -> node id (as a live node sees them)."""
        with self.node(self.live_ports()[0]) as client:
            nodes = client.execute_command("CLUSTER NODES")
        return {
            int(address.rsplit(":", 1)[1]): node["node_id"]
            for address, node in nodes.items()
            if "master" in node["flags"].split(",")
            and "fail" not in node["flags"]
            and node["slots"]
        }

    def port_of_key(self, key: str) -> int:
        """The port of the master serving `key`'s slot now."""
        with self.node(self.live_ports()[0]) as client:
            slot = int(client.execute_command("CLUSTER KEYSLOT", key))
            for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    return int(master[1])
        raise AssertionError(f"no master serves slot {slot}")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Every live node says cluster_state:ok, MASTERS masters serve the slots, and each
        has a replica in sync (so a master killed next has a replica to take over)."""

        def healthy() -> bool:
            live = self.live_ports()
            if any(self.info(port).get("cluster_state") != "ok" for port in live):
                return False
            with self.node(live[0]) as client:
                ranges = client.execute_command("CLUSTER SLOTS")
            replicas = {int(node[1]) for _, _, _, *nodes in ranges for node in nodes}
            return (
                len(self.masters()) == MASTERS
                and len(replicas) >= MASTERS
                and all(self._in_sync(port) for port in replicas)
            )

        self._until(healthy, "the cluster is healthy", timeout)

    def _in_sync(self, replica: int) -> bool:
        with self.node(replica) as client:
            replication = client.info("replication")
        return bool(replication.get("master_link_status") == "up")

    def kill(self, port: int) -> None:
        """SIGKILL: no goodbye, as a crash."""
        process = self.processes[port]
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)

    def stop(self) -> None:
        for port in self.processes:
            self.kill(port)
        for log in self._logs:
            log.close()

    def _until(self, condition: object, what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():  # type: ignore[operator]
                    return
            except (redis.RedisError, OSError):
                pass
            assert time.monotonic() < deadline, f"not in {timeout} s: {what}"
            time.sleep(0.05)


@contextlib.contextmanager
def running_cluster(directory: Path) -> Iterator[Cluster]:
    cluster = Cluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()

"""Hosts as Linux network namespaces, each joined to the root namespace by a veth pair.

Host N of a run gets the namespace `kg-<pid>-<rand>-N` and the links `kg<pid>oN` (the outer end,
in the root namespace, where that host's forwarders to PostgreSQL and Redis listen) and
`kg<pid>iN` (the inner end, the host's own network interface), on a /30 of a 10.x.y.0/24 that
no route or address of this machine touches. Nothing is routed beyond the pair: a host reaches
the root namespace's address on its own link, and nothing else.

`cut` takes the inner end down, as a host whose interface dies: new connections out of the
host fail, connections open across it hang, and the root namespace keeps its (now dead) route
to the host. Taking the outer end down instead would drop that route, and the root
namespace's packets for the host would follow the default route out of this machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Host",
    "cut",
    "heal",
    "inside",
    "make_hosts",
    "remains",
    "remove_hosts",
    "require_namespaces",
]

_NETNS = re.compile(r"^kg-(\d+)-[0-9a-f]+-\d+$")
_LINK = re.compile(r"^kg(\d+)[oi]\d$")
_IP_PLACES = ("/usr/sbin/ip", "/sbin/ip")  # where iproute2 puts it, if not on PATH


@dataclass(frozen=True)
class Host:
    name: str  # "a", "b", ...
    netns: str
    outer_link: str
    inner_link: str
    outer_address: str  # the root namespace's end: the host's way to the shared servers
    address: str  # the host's own


def _ip_binary() -> str:
    binary = shutil.which("ip") or next(
        (place for place in _IP_PLACES if Path(place).exists()), None
    )
    if binary is None:
        raise RuntimeError("the `ip` command is missing: apt-get install iproute2")
    return binary


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        [_ip_binary(), *args], capture_output=True, text=True, timeout=30, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def inside(host: Host) -> list[str]:
    """The command prefix that runs what follows it in the host's namespace."""
    return [_ip_binary(), "netns", "exec", host.netns]


def require_namespaces() -> str | None:
    """None if this process can make network namespaces and veth pairs, else what is missing."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN): run the tests as root, as CI does"
    try:
        _ip_binary()
    except RuntimeError as exc:
        return str(exc)
    probe = f"kg-{os.getpid()}-{secrets.token_hex(3)}-probe"
    try:
        _ip("netns", "add", probe)
    except RuntimeError as exc:
        return f"the kernel refused a network namespace ({exc}): needs CONFIG_NET_NS and root"
    _ip("netns", "delete", probe)
    return None


def _pid_gone(pid: int) -> bool:
    return pid == os.getpid() or not Path(f"/proc/{pid}").exists()


def clean_leftovers() -> None:
    """Namespaces and links of runs that died without cleaning up (their pid is gone), and
    the processes those runs left in them."""
    for name in _ip("netns", "list").split():
        match = _NETNS.match(name)
        if match and _pid_gone(int(match[1])):
            _remove_netns(name)
    for link in json.loads(_ip("-j", "link", "show") or "[]"):
        match = _LINK.match(link["ifname"])
        if match and _pid_gone(int(match[1])):
            _ip("link", "delete", link["ifname"], check=False)


def _taken_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    taken = []
    for route in json.loads(_ip("-j", "-4", "route", "show", "table", "all") or "[]"):
        if route["dst"] not in ("default", "0.0.0.0/0"):
            taken.append(ipaddress.ip_network(route["dst"], strict=False))
    for link in json.loads(_ip("-j", "-4", "address", "show") or "[]"):
        for info in link.get("addr_info", []):
            taken.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
    return taken


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 no route or address of this machine overlaps (x from the pid: two runs
    at once start apart)."""
    taken = _taken_networks()
    second = 100 + os.getpid() % 100
    for third in random.sample(range(256), 256):
        subnet = ipaddress.IPv4Network(f"10.{second}.{third}.0/24")
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise RuntimeError(f"no free /24 in 10.{second}.0.0/16 for the test's hosts")


def make_hosts(names: Sequence[str]) -> list[Host]:
    """One namespace per name, each with its veth pair up and addressed, loopback up."""
    clean_leftovers()
    subnet = _free_subnet()
    run = f"kg-{os.getpid()}-{secrets.token_hex(3)}"
    hosts: list[Host] = []
    try:
        for n, name in enumerate(names):
            base = subnet.network_address + 4 * n
            host = Host(
                name,
                f"{run}-{n}",
                f"kg{os.getpid()}o{n}",
                f"kg{os.getpid()}i{n}",
                str(base + 1),
                str(base + 2),
            )
            hosts.append(host)
            _plumb(host)
    except BaseException:
        remove_hosts(hosts)
        raise
    return hosts


def _plumb(host: Host) -> None:
    _ip("netns", "add", host.netns)
    _ip("link", "add", host.outer_link, "type", "veth", "peer", "name", host.inner_link)
    _ip("link", "set", host.inner_link, "netns", host.netns)
    _ip("address", "add", f"{host.outer_address}/30", "dev", host.outer_link)
    _ip("link", "set", host.outer_link, "up")
    in_ns = ("-n", host.netns)
    _ip(*in_ns, "address", "add", f"{host.address}/30", "dev", host.inner_link)
    _ip(*in_ns, "link", "set", host.inner_link, "up")
    _ip(*in_ns, "link", "set", "lo", "up")


def cut(host: Host) -> None:
    _ip("-n", host.netns, "link", "set", host.inner_link, "down")


def heal(host: Host) -> None:
    _ip("-n", host.netns, "link", "set", host.inner_link, "up")


def _remove_netns(netns: str) -> None:
    """Kill what still runs in it (only what a run of this test started there), delete it:
    its veth end goes with it, and the other end with that."""
    for pid in _ip("netns", "pids", netns, check=False).split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    _ip("netns", "delete", netns, check=False)


def remove_hosts(hosts: Sequence[Host]) -> None:
    for host in hosts:
        _remove_netns(host.netns)
        _ip("link", "delete", host.outer_link, check=False)  # if the pair outlived the netns


def remains(hosts: Sequence[Host]) -> list[str]:
    """The namespaces and links of `hosts` that still exist."""
    namespaces = set(_ip("netns", "list").split())
    links = {link["ifname"] for link in json.loads(_ip("-j", "link", "show") or "[]")}
    return [h.netns for h in hosts if h.netns in namespaces] + [
        h.outer_link for h in hosts if h.outer_link in links
    ]

"""Where a key may be used from: allowed origins for publishable keys (exact, or a wildcard
below a domain), allowed networks for secret keys (CIDR, IPv4 and IPv6), and the signals by
which a browser marks its requests (no secret key belongs in one).

Lists are validated on write and compiled once per key record; a check on the cache-hit path
is a set lookup, a few suffix comparisons, or a few network containment tests.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence

from ._errors import FieldIssue, ValidationError

__all__ = [
    "MAX_PLACES",
    "NetworkMatcher",
    "OriginMatcher",
    "browser_signal",
    "origin_from_referer",
    "request_origin",
    "validate_networks",
    "validate_origins",
]

MAX_PLACES = 64
_MEMO_SIZE = 256
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_ORIGIN = re.compile(rf"(https?)://(\*\.)?({_HOST})(?::([0-9]{{1,5}}))?", re.ASCII)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ORIGIN_RULE = (
    "must be an origin such as https://shop.example.com or https://*.example.com"
    " (scheme, host and optional port; no path)"
)
AnyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def validate_origins(values: object, field: str = "allowedOrigins") -> tuple[str, ...]:
    """Origins as a key stores them: lowercase, default ports dropped, each at most once."""
    return _validated(values, field, _normal_origin)


def validate_networks(values: object, field: str = "allowedNetworks") -> tuple[str, ...]:
    """CIDR ranges as a key stores them (`10.0.0.0/8`, `2001:db8::/32`; a bare address is
    its own /32 or /128). Host bits set (`10.0.0.1/8`) are refused: a likely typo."""
    return _validated(values, field, _normal_network)


def _validated(values: object, field: str, normal: Callable[[object], str]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError.single(field, "must be a list")
    values = list(values)[: MAX_PLACES + 1]
    if not values:  # a key usable from nowhere is a mistake; null is "from anywhere"
        raise ValidationError.single(field, "must hold at least one entry (null: no restriction)")
    found: dict[str, None] = {}
    issues: list[FieldIssue] = []
    for index, value in enumerate(values):
        if index >= MAX_PLACES:
            raise ValidationError.single(field, f"must hold at most {MAX_PLACES} entries")
        try:
            found[normal(value)] = None
        except ValueError as exc:
            issues.append(FieldIssue(f"{field}[{index}]", str(exc)))
    if issues:
        raise ValidationError(issues)
    return tuple(found)


def _normal_origin(value: object) -> str:
    # ASCII first: lowercasing would make a Kelvin sign a "k" (hosts are punycode: no IDNs here)
    if not isinstance(value, str) or len(value) > 300 or not value.isascii():
        raise ValueError(_ORIGIN_RULE)
    match = _ORIGIN.fullmatch(value.lower())
    if match is None:
        raise ValueError(_ORIGIN_RULE)
    scheme, wildcard, host, port = match.groups()
    if wildcard and "." not in host:  # `*.com` would allow half the web
        raise ValueError("a wildcard must stand below a domain: https://*.example.com")
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(_ORIGIN_RULE)
    shown_port = "" if port is None or int(port) == _DEFAULT_PORTS[scheme] else f":{int(port)}"
    return f"{scheme}://{wildcard or ''}{host}{shown_port}"


def _normal_network(value: object) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32")
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        raise ValueError(
            "must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32, with no host bits set"
        ) from None
    if "%" in value:  # a zone (fe80::%eth0) names an interface of one host, not a network
        raise ValueError("must be a CIDR range without a zone (%...)")
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        # Clients are compared as the IPv4 addresses they are, so an IPv4-mapped range is
        # stored as the IPv4 range it means (::ffff:10.0.0.0/104 is 10.0.0.0/8).
        ipv4 = int(network.network_address) & 0xFFFFFFFF
        return str(ipaddress.IPv4Network((ipv4, network.prefixlen - 96)))
    return str(network)


class _Remembering:
    """A matcher's answers, remembered per place (bounded: a client choosing endless places
    only clears it). A matcher belongs to one key record, used from a few places over and over."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[str, bool] = {}

    def allows(self, place: str) -> bool:
        """Whether a request from `place` (an `Origin` as sent, a client address) is allowed."""
        known = self._memo.get(place)
        if known is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            known = self._memo[place] = self._allows(place)
        return known

    def _allows(self, place: str) -> bool:
        raise NotImplementedError


class OriginMatcher(_Remembering):
    """Allowed origins, compiled: exact origins in a set, wildcards as (scheme, suffix, port)."""

    __slots__ = ("_exact", "_suffixes", "allowed")

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__()
        self.allowed = tuple(allowed)
        self._exact = frozenset(a for a in allowed if "://*." not in a)
        suffixes = []
        for pattern in allowed:
            if "://*." in pattern:
                scheme, rest = pattern.split("://*.", 1)
                host, _, port = rest.partition(":")
                suffixes.append((f"{scheme}://", f".{host}", f":{port}" if port else ""))
        self._suffixes = tuple(suffixes)

    def _allows(self, place: str) -> bool:
        origin = place
        if "*" in origin:  # a browser never sends a wildcard: it is a pattern, not an origin
            return False
        try:
            normal = _normal_origin(origin)
        except ValueError:  # `null`, a path, garbage: never allowed
            return False
        if normal in self._exact:
            return True
        for scheme, suffix, port in self._suffixes:
            if not normal.startswith(scheme):
                continue
            host_port = normal[len(scheme) :]
            host, _, rest = host_port.partition(":")
            if (f":{rest}" if rest else "") == port and host.endswith(suffix):
                return True
        return False


class NetworkMatcher(_Remembering):
    """Allowed networks, compiled. An IPv4-mapped IPv6 client (`::ffff:10.1.2.3`, as a
    dual-stack server reports it) is checked as the IPv4 address it is."""

    __slots__ = ("_networks", "allowed")

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__()
        self.allowed = tuple(allowed)
        self._networks: tuple[AnyNetwork, ...] = tuple(ipaddress.ip_network(a) for a in allowed)

    def _allows(self, place: str) -> bool:
        try:
            client = ipaddress.ip_address(place)
        except ValueError:  # "unknown", a unix socket: no address, so not from an allowed one
            return False
        if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
            client = client.ipv4_mapped
        return any(client in network for network in self._networks)


def origin_from_referer(referer: str) -> str | None:
    """The origin of a `Referer` URL, for a request that sent no `Origin`."""
    scheme, sep, rest = referer.partition("://")
    if not sep:
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in host:  # user-info has no place in an origin
        return None
    return f"{scheme}://{host}"


_BROWSER_SITES = frozenset({b"cross-site", b"same-site"})
_BROWSER_MODES = frozenset({b"cors", b"navigate"})


def browser_signal(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The first mark only browsers set on a request (page scripts cannot hide them), as the
    audit log names it: `Sec-Fetch-Site` cross-site or same-site, `Sec-Fetch-Mode` cors or
    navigate, or `Origin`; None for a request with none. A `Sec-Fetch-Mode` counts only beside
    a `Sec-Fetch-Site`: browsers send both, and Node's built-in fetch sends the mode alone from
    servers. A guard against a secret key pasted into a web page, not against a client that
    forges or omits headers."""
    mode = None
    site = False
    for name, value in headers:
        if name == b"origin":
            return "Origin"
        if name == b"sec-fetch-site":
            if value.lower() in _BROWSER_SITES:
                return f"Sec-Fetch-Site: {value.lower().decode()}"
            site = True
        elif name == b"sec-fetch-mode" and value.lower() in _BROWSER_MODES:
            mode = f"Sec-Fetch-Mode: {value.lower().decode()}"
    return mode if site else None


def request_origin(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Where a request says it comes from: its `Origin`, else the origin of its `Referer`
    (a same-origin GET sends no `Origin`); None when it names neither (or `Origin: null`)."""
    referer = None
    for name, value in headers:
        if name == b"origin":
            origin = value.decode("latin-1")
            return None if origin == "null" else origin
        if name == b"referer":
            referer = value.decode("latin-1")
    return None if referer is None else origin_from_referer(referer)

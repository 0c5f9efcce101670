"""Where a key may be used from: origins (exact and wildcard), networks (IPv4, IPv6 and
IPv4-mapped), and browser signals. Property tests against an independent oracle."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import (
    MAX_PLACES,
    NetworkMatcher,
    OriginMatcher,
    ValidationError,
    browser_signal,
    origin_from_referer,
    request_origin,
    validate_networks,
    validate_origins,
)

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
schemes = st.sampled_from(["http", "https"])


def test_origins_are_stored_in_one_form() -> None:
    assert validate_origins(
        ["HTTPS://Shop.Example.com:443", "http://localhost:3000", "https://*.example.com"]
    ) == ("https://shop.example.com", "http://localhost:3000", "https://*.example.com")


@pytest.mark.parametrize(
    "origin",
    ["https://shop.example.com/", "https://shop.example.com/path", "ftp://x.com", "https://*.com",
     "https://a.*.example.com", "https://shop.example.com:0", "https://shop.example.com:70000",
     "https://-bad.example.com", "null", "", "https://user@shop.example.com", "*"],
)  # fmt: skip
def test_what_is_not_an_origin_is_refused_by_position(origin: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_origins(["https://ok.example.com", origin])
    assert caught.value.issues[0].field == "allowedOrigins[1]"


@given(schemes, hosts, hosts)
def test_a_wildcard_allows_subdomains_only_of_its_scheme(
    scheme: str, sub: str, domain: str
) -> None:
    if "." not in domain:
        domain += ".example"
    matcher = OriginMatcher(validate_origins([f"{scheme}://*.{domain}"]))
    assert matcher.allows(f"{scheme}://{sub}.{domain}")
    assert not matcher.allows(f"{scheme}://{domain}")  # the domain itself is not below it
    assert not matcher.allows(f"{scheme}://{sub}{domain}")  # glued on, not below
    other = "http" if scheme == "https" else "https"
    assert not matcher.allows(f"{other}://{sub}.{domain}")
    assert not matcher.allows(f"{scheme}://{sub}.{domain}.evil")


@given(schemes, hosts, st.integers(1, 65535) | st.none())
def test_an_exact_origin_allows_itself_and_nothing_else(
    scheme: str, host: str, port: int | None
) -> None:
    origin = f"{scheme}://{host}" + ("" if port is None else f":{port}")
    matcher = OriginMatcher(validate_origins([origin]))
    assert matcher.allows(origin)
    assert matcher.allows(origin.upper().replace(scheme.upper(), scheme))
    assert not matcher.allows(f"{scheme}://x{host}")
    assert not matcher.allows("null")


def test_referers_give_their_origin() -> None:
    assert origin_from_referer("https://shop.example.com/cart?x=1") == "https://shop.example.com"
    assert origin_from_referer("https://u:p@shop.example.com/") is None
    assert origin_from_referer("not a url") is None


MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
networks = st.one_of(
    st.builds(lambda a, n: ipaddress.ip_network((a, n), strict=False),
              st.ip_addresses(v=4), st.integers(0, 32)),
    st.builds(lambda a, n: ipaddress.ip_network((a, n), strict=False),
              st.ip_addresses(v=6), st.integers(0, 128)),
)  # fmt: skip
MAPPED_BASE = int(MAPPED.network_address)
networks = networks | st.builds(
    lambda a, n: ipaddress.IPv6Network((MAPPED_BASE | int(a), 96 + n), strict=False),
    st.ip_addresses(v=4), st.integers(0, 32),
)  # fmt: skip
# Addresses near the IPv4-mapped block and the networks' edges, as well as anywhere.
addresses = st.ip_addresses() | st.ip_addresses(v=4).map(
    lambda a: ipaddress.IPv6Address(int(MAPPED.network_address) | int(a))
)


def held(network: ipaddress.IPv4Network | ipaddress.IPv6Network, address: int, bits: int) -> bool:
    """Containment by arithmetic on the integers, not by `ipaddress`'s `in`."""
    shift = bits - network.prefixlen
    return address >> shift == int(network.network_address) >> shift


def as_ipv4(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A range inside ::ffff:0:0/96 means the IPv4 range of its low 32 bits."""
    value = int(network.network_address)
    if network.version == 6 and network.prefixlen >= 96 and value >> 32 == 0xFFFF:
        return ipaddress.IPv4Network((value & 0xFFFFFFFF, network.prefixlen - 96))
    return network


def oracle(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network], text: str) -> bool:
    value = int(ipaddress.ip_address(text))
    bits = 32 if "." in text and ":" not in text else 128
    if bits == 128 and value >> 32 == 0xFFFF:  # ::ffff:a.b.c.d is the IPv4 address a.b.c.d
        value, bits = value & 0xFFFFFFFF, 32
    converted = [as_ipv4(n) for n in networks]
    return any(held(n, value, bits) for n in converted if n.max_prefixlen == bits)


@given(st.lists(networks, min_size=1, max_size=5), addresses)
def test_an_address_is_allowed_exactly_when_a_network_holds_it(
    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    matcher = NetworkMatcher(validate_networks([str(n) for n in allowed]))
    assert matcher.allows(str(address)) is oracle(allowed, str(address))


def test_an_ipv4_mapped_client_is_its_ipv4_address() -> None:
    matcher = NetworkMatcher(validate_networks(["10.0.0.0/8"]))
    assert matcher.allows("::ffff:10.1.2.3")
    assert not matcher.allows("::ffff:11.1.2.3")
    assert not matcher.allows("unknown")


@pytest.mark.parametrize("network", ["10.0.0.1/8", "300.0.0.0/8", "10.0.0.0/33", "fe80::/129", "x"])
def test_what_is_not_a_network_is_refused(network: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_networks([network])
    assert caught.value.issues[0].field == "allowedNetworks[0]"


def test_lists_are_bounded() -> None:
    with pytest.raises(ValidationError, match=f"at most {MAX_PLACES}"):
        validate_networks([f"10.0.{i // 256}.{i % 256}/32" for i in range(MAX_PLACES + 1)])


@pytest.mark.parametrize(
    ("headers", "browser"),
    [
        ([], False),
        ([(b"sec-fetch-site", b"none"), (b"sec-fetch-mode", b"no-cors")], False),
        ([(b"sec-fetch-site", b"same-origin"), (b"sec-fetch-mode", b"same-origin")], False),
        ([(b"sec-fetch-site", b"cross-site")], True),
        ([(b"sec-fetch-site", b"Same-Site")], True),
        ([(b"sec-fetch-mode", b"cors")], False),  # Node's fetch, from a server
        ([(b"sec-fetch-mode", b"cors"), (b"sec-fetch-site", b"same-origin")], True),
        ([(b"sec-fetch-site", b"none"), (b"sec-fetch-mode", b"navigate")], True),
        ([(b"origin", b"https://shop.example.com")], True),
        ([(b"user-agent", b"curl/8.0")], False),
    ],
)
def test_browser_signal(headers: list[tuple[bytes, bytes]], browser: bool) -> None:
    assert (browser_signal(headers) is not None) is browser


@pytest.mark.parametrize(
    ("headers", "origin"),
    [
        ([], None),
        ([(b"origin", b"https://shop.example.com")], "https://shop.example.com"),
        ([(b"origin", b"null")], None),
        ([(b"referer", b"https://shop.example.com/cart?x=1")], "https://shop.example.com"),
        (
            [(b"referer", b"https://a.example/p"), (b"origin", b"https://b.example")],
            "https://b.example",
        ),
        ([(b"referer", b"https://user@a.example/p")], None),
        ([(b"referer", b"not a url")], None),
    ],
)
def test_request_origin_prefers_origin_then_referer(
    headers: list[tuple[bytes, bytes]], origin: str | None
) -> None:
    assert request_origin(headers) == origin


def test_browser_signal_names_the_header_for_the_audit_log() -> None:
    assert browser_signal([(b"sec-fetch-site", b"Cross-Site")]) == "Sec-Fetch-Site: cross-site"
    assert browser_signal([(b"origin", b"https://a.example")]) == "Origin"


def test_an_empty_list_is_refused_none_is_the_way_to_lift_a_restriction() -> None:
    for validate in (validate_origins, validate_networks):
        with pytest.raises(ValidationError, match="at least one"):
            validate([])


@pytest.mark.parametrize(
    "origin", ["https://\u212aey.example.com", "https://shop.example.com:\u0664\u0664\u0663"]
)
def test_only_ascii_origins_are_taken(origin: str) -> None:
    """A Kelvin sign lowercases to "k" and Arabic-Indic digits are digits to `\\d`: neither is
    in an origin a browser sends (hosts are punycode)."""
    with pytest.raises(ValidationError):
        validate_origins([origin])
    assert not OriginMatcher(["https://key.example.com"]).allows(origin)


def test_a_zone_is_refused_it_names_an_interface_not_a_network() -> None:
    with pytest.raises(ValidationError):
        validate_networks(["fe80::%eth0/64"])


@pytest.mark.parametrize(
    ("mapped", "ipv4"),
    [("::ffff:10.0.0.0/104", "10.0.0.0/8"), ("::ffff:0:0/96", "0.0.0.0/0"),
     ("::ffff:8abc:0/111", "138.188.0.0/15")],
)  # fmt: skip
def test_an_ipv4_mapped_range_is_stored_as_the_ipv4_range_it_means(mapped: str, ipv4: str) -> None:
    assert validate_networks([mapped]) == (ipv4,)
    assert NetworkMatcher(validate_networks([mapped])).allows(ipv4.split("/")[0])


def test_a_wildcard_sent_as_an_origin_is_not_an_origin() -> None:
    matcher = OriginMatcher(validate_origins(["https://*.example.com"]))
    assert matcher.allows("https://shop.example.com")
    assert not matcher.allows("https://*.example.com")

"""Route rules and the access policy: what publishable keys reach, what is public, and that
no unnormalized path ever matches."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from keyguard.core import (
    Access,
    AccessPolicy,
    RoutePattern,
    compile_routes,
)

PUBLISHABLE_PATHS = [
    "/v1/storefront/public/banner",
    "/v1/storefront/public/images/hero.png",
    "/v1/storefront/public/a/b/c/d",
    "/v1/storefront/products",
    "/v1/storefront/products/42",
    "/v1/storefront/products/prod_01J9ZV2Y4M8W6T3Q5R7P9N1K0H",
    "/v1/storefront/products/caf\u00e9",
]
LOOKALIKES = [
    "/v1/storefront/productsX",
    "/v1/storefront/products/1/2",
    "/v1/storefront/products/",
    "/v1/storefront/products/1/",
    "/v1/storefront/product",
    "/v1/storefront/public",
    "/v1/storefront/public/",
    "/v1/storefront/publicity/x",
    "/v1/storefront/public/a/",
    "/v1/storefront/public/../../v1/account/api-keys",
    "/v1/storefront/public/./x",
    "/v1/storefront/public/x/..",
    "/v1/storefront/products/..",
    "/v1/storefront/products/.",
    "//v1/storefront/products",
    "/v1//storefront/products",
    "/v1/storefront/public//x",
    "/v1/storefront/products/%2e%2e",
    "/v1/storefront/products/%31",
    "/v1/storefront/public/a%2fb",
    "/v1/storefront/public/a\\..\\..\\x",
    "/v1/storefront/products/1\x00",
    "/v1/storefront/products/1\n",
    "/V1/storefront/products",
    "v1/storefront/products",
    "",
    "/",
    "/v1/account/api-keys",
    "/v1/storefront",
]


STOREFRONT = (
    "GET /v1/storefront/public/*",
    "GET /v1/storefront/products",
    "GET /v1/storefront/products/{id}",
)


@pytest.fixture(scope="module")
def policy() -> AccessPolicy:
    """The demo storefront's rules: what most tests here read against."""
    return AccessPolicy(publishable_routes=STOREFRONT)


@pytest.mark.parametrize("path", PUBLISHABLE_PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_publishable_keys_may_read_the_catalogue(
    policy: AccessPolicy, method: str, path: str
) -> None:
    assert policy.allows(Access.PUBLISHABLE, method, path)


@pytest.mark.parametrize("path", PUBLISHABLE_PATHS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "*"])
def test_publishable_keys_may_not_write(policy: AccessPolicy, method: str, path: str) -> None:
    assert not policy.allows(Access.PUBLISHABLE, method, path)


@pytest.mark.parametrize("path", LOOKALIKES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_lookalike_paths_are_denied(policy: AccessPolicy, method: str, path: str) -> None:
    assert not policy.allows(Access.PUBLISHABLE, method, path)


@pytest.mark.parametrize("path", [*PUBLISHABLE_PATHS, *LOOKALIKES])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_secret_keys_may_do_anything(policy: AccessPolicy, method: str, path: str) -> None:
    assert policy.allows(Access.SECRET, method, path)


def test_only_the_secret_enum_member_gets_everything(policy: AccessPolicy) -> None:
    assert not policy.allows("secret", "POST", "/v1/orders")  # type: ignore[arg-type]


def test_the_default_policy_opens_nothing() -> None:
    policy = AccessPolicy()
    assert policy.public_paths == ()
    assert policy.publishable_routes == ()
    assert not policy.allows(Access.PUBLISHABLE, "GET", "/v1/storefront/products")


def test_default_policy_has_no_public_paths(policy: AccessPolicy) -> None:
    assert policy.public_paths == ()
    assert policy.publishable_routes == STOREFRONT
    assert not policy.is_public("GET", "/v1/storefront/products")
    assert not policy.is_public("GET", "/")


def test_public_paths() -> None:
    policy = AccessPolicy(public_paths=["/health", "GET /docs/*", "POST /v1/webhooks/{source}"])
    assert policy.is_public("GET", "/health")
    assert policy.is_public("POST", "/health")  # a bare path means any method
    assert policy.is_public("OPTIONS", "/health")
    assert policy.is_public("GET", "/docs/index.html")
    assert policy.is_public("HEAD", "/docs/a/b")
    assert policy.is_public("POST", "/v1/webhooks/stripe")
    assert not policy.is_public("POST", "/docs/index.html")
    assert not policy.is_public("GET", "/v1/webhooks/stripe")
    assert not policy.is_public("GET", "/health/")
    assert not policy.is_public("GET", "/healthz")
    assert not policy.is_public("GET", "/docs")
    assert not policy.is_public("GET", "/docs/../v1/account/api-keys")
    assert not policy.is_public("POST", "/v1/webhooks/%2e%2e")


def test_custom_publishable_routes_replace_the_defaults() -> None:
    policy = AccessPolicy(publishable_routes=["GET /v2/catalog/:sku", "POST /v2/cart"])
    assert policy.allows(Access.PUBLISHABLE, "GET", "/v2/catalog/abc")
    assert policy.allows(Access.PUBLISHABLE, "POST", "/v2/cart")
    assert not policy.allows(Access.PUBLISHABLE, "HEAD", "/v2/cart")  # only GET brings HEAD
    assert not policy.allows(Access.PUBLISHABLE, "GET", "/v2/cart")
    assert not policy.allows(Access.PUBLISHABLE, "GET", "/v1/storefront/products")


def test_no_publishable_routes_means_publishable_keys_reach_nothing() -> None:
    policy = AccessPolicy(publishable_routes=())
    assert not policy.allows(Access.PUBLISHABLE, "GET", "/v1/storefront/products")
    assert policy.allows(Access.SECRET, "GET", "/v1/storefront/products")


def test_bare_paths_are_not_publishable_routes() -> None:
    # Any-method publishable routes would let a key from a browser write: say the method.
    with pytest.raises(ValueError, match="METHOD /path"):
        AccessPolicy(publishable_routes=["/v1/storefront/products"])


def test_repr_shows_the_rules() -> None:
    policy = AccessPolicy(public_paths=["/health"])
    assert repr(policy) == ("AccessPolicy(publishable_routes=(), public_paths=('/health',))")


def test_any_method_rules() -> None:
    routes = compile_routes(["* /v1/things/*", "GET /v1/things/special"])
    for method in ["GET", "HEAD", "POST", "DELETE", "PROPFIND"]:
        assert routes.matches(method, "/v1/things/a")
        assert routes.matches(method, "/v1/things/special")  # * rules reach explicit methods too
    assert not routes.matches("GET", "/v1/things")


def test_root_rules() -> None:
    root = compile_routes(["GET /"])
    assert root.matches("GET", "/")
    assert not root.matches("GET", "/x")
    everything = compile_routes(["GET /*"])
    assert everything.matches("GET", "/x")
    assert everything.matches("GET", "/x/y/z")
    assert not everything.matches("GET", "/")  # /* needs one segment or more
    assert not everything.matches("GET", "/x/../y")
    assert not everything.matches("GET", "//x")
    assert not everything.matches("GET", "/x/")


def test_parameters_inside_a_subtree_rule() -> None:
    routes = compile_routes(["GET /v1/shops/{shop}/files/*", "GET /v1/shops/:shop"])
    assert routes.matches("GET", "/v1/shops/s1/files/a/b")
    assert routes.matches("GET", "/v1/shops/s1")
    assert not routes.matches("GET", "/v1/shops/s1/files")
    assert not routes.matches("GET", "/v1/shops/s1/other/a")
    assert not routes.matches("GET", "/v1/shops/../files/a")


def test_regex_metacharacters_in_literals_are_literal() -> None:
    routes = compile_routes(["GET /v1/a.b/c+d/(x)"])
    assert routes.matches("GET", "/v1/a.b/c+d/(x)")
    assert not routes.matches("GET", "/v1/aXb/c+d/(x)")
    assert not routes.matches("GET", "/v1/a.b/cd/x")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "METHOD /path"),
        ("GET", "METHOD /path"),
        ("/health", "METHOD /path"),  # bare paths only where allowed
        ("GET /a /b", "METHOD /path"),
        ("get /a", "HTTP method"),
        ("G3T! /a", "HTTP method"),
        ("GET a/b", "start with /"),
        ("GET /a//b", "empty segment"),
        ("GET /a/", "empty segment"),
        ("GET /a/*/b", r"\*"),
        ("GET /a/b*", r"\*"),
        ("GET /a/**", r"\*"),
        ("GET /a/{id", "or :name"),
        ("GET /a/x{id}", "not a plain path segment"),
        ("GET /a/{}", "or :name"),
        ("GET /a/{1d}", "or :name"),
        ("GET /a/:", "or :name"),
        ("GET /a/:1", "or :name"),
        ("GET /a/../b", "not a plain path segment"),
        ("GET /a/./b", "not a plain path segment"),
        ("GET /a/%2e", "not a plain path segment"),
        ("GET /a\\b", "not a plain path segment"),
        ("GET /caf\u00e9", "not a plain path segment"),
    ],
)
def test_invalid_rules_are_refused_at_compile_time(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        compile_routes([rule])
    assert repr(rule) in str(info.value)


def test_a_single_string_is_not_a_list_of_rules() -> None:
    with pytest.raises(TypeError, match="list of rules"):
        compile_routes("GET /v1/storefront/products")


def test_route_pattern_parse() -> None:
    pattern = RoutePattern.parse("GET /v1/storefront/products/{id}")
    assert pattern.method == "GET"
    assert pattern.segments == ("v1", "storefront", "products", None)
    assert not pattern.subtree
    assert pattern.methods == {"GET", "HEAD"}
    public = RoutePattern.parse("/health/*", bare_path_any_method=True)
    assert (public.method, public.segments, public.subtree) == ("*", ("health",), True)


# --- properties -----------------------------------------------------------------------------

RULES = [
    *STOREFRONT,
    "* /health",
    "POST /v1/webhooks/{source}",
    "GET /v1/shops/:shop/files/*",
    "DELETE /v1/a.b/{x}/c",
    "GET /",
]
segment = st.sampled_from(
    ["v1", "storefront", "public", "products", "shops", "files", "webhooks", "health", "a.b", "c"]
) | st.text(st.characters(codec="utf-8"), max_size=4)
paths = st.lists(segment, max_size=6).map(lambda segments: "/" + "/".join(segments))
methods = st.sampled_from(["GET", "HEAD", "POST", "DELETE", "PUT"])


@given(methods, paths)
@example("GET", "/v1/storefront/products/..")
@example("GET", "/v1/storefront/public/a/../b")
def test_compiled_routes_agree_with_the_rules_one_by_one(method: str, path: str) -> None:
    compiled = compile_routes(RULES)
    one_by_one = any(p.matches(method, path) for p in compiled.rules)
    assert compiled.matches(method, path) == one_by_one


@given(methods, st.lists(segment, max_size=4), st.lists(segment, max_size=4), st.booleans())
def test_a_dot_dot_segment_never_matches(
    method: str, before: list[str], after: list[str], single_dot: bool
) -> None:
    path = "/" + "/".join([*before, "." if single_dot else "..", *after])
    catch_all = compile_routes(["* /*", "* /{a}/{b}", *RULES])
    assert not catch_all.matches(method, path)
    assert not AccessPolicy().allows(Access.PUBLISHABLE, method, path)


@given(methods, paths, st.sampled_from(["%", "\\", "//", "\x00", "\t", "\x7f"]), st.data())
def test_unnormalized_characters_never_match(
    method: str, path: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(1, len(path)))
    tainted = path[:at] + bad + path[at:]
    assert not compile_routes(["* /*", *RULES]).matches(method, tainted)


@given(st.text(st.characters(codec="utf-8"), max_size=30))
def test_catch_all_matches_exactly_the_normalized_paths(path: str) -> None:
    assume(path != "/")
    segments = path[1:].split("/")
    normalized = (
        path.startswith("/")
        and all(s not in ("", ".", "..") for s in segments)
        and not any(ch in path for ch in "%\\")
        and path.isprintable()
    )
    assert compile_routes(["* /*"]).matches("GET", path) == normalized

"""The route table: what a request needs is what every matching rule names, whether found in
the table of literal routes worked out up front or by matching, against an oracle that tries
each rule on its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import RoutePattern, RoutePermissions

segments = st.sampled_from(["v1", "orders", "{id}", "refund", "me"])
methods = st.sampled_from(["GET", "POST", "DELETE", "*"])
needs = st.lists(st.sampled_from(["orders:read", "orders:write", "refunds:write"]), max_size=2)
rules = st.builds(
    lambda method, parts, subtree: f"{method} /{'/'.join(parts)}{'/*' if subtree else ''}",
    methods,
    st.lists(segments, max_size=3),
    st.booleans(),
).filter(lambda rule: rule.split(" ")[1] != "//*")
tables = st.dictionaries(rules, needs, max_size=6)
paths = st.lists(st.sampled_from(["v1", "orders", "7", "refund", "me"]), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


def oracle(table: dict[str, list[str]], method: str, path: str) -> tuple[str, ...] | None:
    matched = [n for rule, n in table.items() if RoutePattern.parse(rule).matches(method, path)]
    if not matched:
        return None
    return tuple(sorted({need for names in matched for need in names}))


@given(tables, st.sampled_from(["GET", "HEAD", "POST", "DELETE", "PATCH"]), paths)
def test_what_a_request_needs_is_what_every_matching_rule_names(
    table: dict[str, list[str]], method: str, path: str
) -> None:
    assert RoutePermissions(table).needed(method, path) == oracle(table, method, path)


@given(tables)
def test_every_literal_route_of_the_table_answers_as_matching_would(
    table: dict[str, list[str]],
) -> None:
    routes = RoutePermissions(table)
    for rule in table:
        path = rule.split(" ", 1)[1]
        for asked in ("GET", "HEAD", "POST", "DELETE"):
            assert routes.needed(asked, path) == oracle(table, asked, path)


def test_a_table_in_words() -> None:
    routes = RoutePermissions(
        {
            "GET /v1/orders": "orders:read",
            "GET /v1/orders/{id}": "orders:read",
            "POST /v1/orders/{id}/refund": ["orders:write", "refunds:write"],
            "GET /v1/me": (),
        }
    )
    assert routes.needed("GET", "/v1/orders") == ("orders:read",)
    assert routes.needed("HEAD", "/v1/orders/7") == ("orders:read",)
    assert routes.needed("POST", "/v1/orders/7/refund") == ("orders:write", "refunds:write")
    assert routes.needed("GET", "/v1/me") == ()
    assert routes.needed("POST", "/v1/me") is None  # listed for GET only
    assert routes.needed("GET", "/v1/orders/") is None  # not in normal form: never listed
    assert not RoutePermissions({})


@pytest.mark.parametrize("needs", ["Orders:read", ["orders"], "env:live", [7]])
def test_a_malformed_need_is_refused_when_the_table_is_built(needs: object) -> None:
    with pytest.raises(ValueError, match=r"not a permission|a permission is a string"):
        RoutePermissions({"GET /v1/orders": needs})  # type: ignore[dict-item]

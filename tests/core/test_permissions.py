"""The permission grammar and its check: property tests, and the cases people get wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import (
    MAX_PERMISSIONS,
    PERMISSION_PATTERN,
    Permissions,
    ValidationError,
    validate_permission,
    validate_permissions,
)

names = st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True)
resources = names.filter(lambda name: name != "env")
permissions = st.builds(lambda r, a: f"{r}:{a}", resources, names | st.just("*"))


@given(permissions)
def test_every_permission_of_the_grammar_is_taken_as_it_is(permission: str) -> None:
    assert validate_permission(permission) == permission


@given(st.text(max_size=90))
def test_anything_else_is_refused(text: str) -> None:
    if PERMISSION_PATTERN.fullmatch(text) and not text.startswith("env:"):
        return
    with pytest.raises(ValidationError):
        validate_permission(text)


@pytest.mark.parametrize(
    "text",
    ["Orders:read", "orders", "orders:", ":read", "orders:read:all", "*:read", "orders:re ad",
     "orders:*:x", "1orders:read", "orders:read\n", "ordérs:read", "o" * 41 + ":read",
     "env:live", "env:*"],
)  # fmt: skip
def test_the_shapes_people_try_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="resource:action"):
        validate_permission(text)


@given(st.lists(permissions, max_size=10), permissions)
def test_a_need_is_granted_by_itself_or_its_resources_star(held: list[str], need: str) -> None:
    resource = need.split(":")[0]
    expected = need in held or f"{resource}:*" in held
    assert Permissions(held).allows(need) is expected


def test_a_star_grants_its_resource_only() -> None:
    granted = Permissions(["orders:*", "products:read"])
    assert granted.allows("orders:refund")
    assert not granted.allows("orders_archive:read")  # a prefix is not the resource
    assert granted.missing(["products:read", "products:write", "orders:read"]) == (
        "products:write",
    )


def test_a_set_is_bounded_and_each_entry_named_when_wrong() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_permissions(["orders:read", "Bad", 7])
    assert [i.field for i in caught.value.issues] == ["permissions[1]", "permissions[2]"]
    with pytest.raises(ValidationError, match=f"at most {MAX_PERMISSIONS}"):
        validate_permissions([f"r{i}:read" for i in range(MAX_PERMISSIONS + 1)])
    with pytest.raises(ValidationError, match="a list"):
        validate_permissions("orders:read")
    assert validate_permissions(["a:b", "a:b"]) == frozenset({"a:b"})

"""The types of a key's restrictions as the management API reads and shows them: permissions,
allowed origins (publishable keys), allowed networks (secret keys), and `usableFrom`.

Each item is checked by keyguard's own validator, so an error names the item
(`allowedOrigins[2]`). The patterns the document shows are the API's rule exactly, read by any
JSON Schema tool; what no pattern can say (a network's host bits) is said in words, and the
network format is named (`cidr`) for tools that can generate one.

Imported only with `models`, once management routes or their document are built.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainValidator, WithJsonSchema
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from keyguard.core import (
    MAX_PERMISSIONS,
    MAX_PLACES,
    PERMISSION_PATTERN,
    ValidationError,
    validate_networks,
    validate_origins,
    validate_permission,
)

__all__ = [
    "CREATE_RESTRICTION_RULES",
    "NETWORKS_NOTE",
    "NETWORK_FORMAT",
    "ORIGINS_NOTE",
    "ORIGIN_PATTERN",
    "PERMISSIONS_NOTE",
    "Network",
    "NetworkList",
    "Origin",
    "OriginList",
    "Permission",
    "PermissionList",
    "UsableFrom",
    "at_most",
]

_LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_PORT = (  # 1 to 65535, leading zeros allowed up to five digits, as the server reads it
    "0{0,4}[1-9]|0{0,3}[1-9][0-9]|0{0,2}[1-9][0-9]{2}|0?[1-9][0-9]{3}|[1-5][0-9]{4}"
    "|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
)
# A wildcard stands below a domain (two labels at least); ASCII only, any case.
ORIGIN_PATTERN = (
    f"^[hH][tT][tT][pP][sS]?://(?:\\*\\.{_LABEL}(?:\\.{_LABEL})+|{_LABEL}(?:\\.{_LABEL})*)"
    f"(?::(?:{_PORT}))?$"
)
_ORIGIN = re.compile(ORIGIN_PATTERN)
_MAX_ORIGIN = 300
NETWORK_FORMAT = "cidr"
_MAX_NETWORK = 64
_NOT_RESTRICTED = "null: not restricted, whatever the key's access allows."
_ANYWHERE = "null: the key works from anywhere."


def _item(check: Any) -> Any:
    """Run one of keyguard's list validators on one item; its message becomes the error's."""

    def run(value: Any) -> str:
        try:
            (normal,) = check([value])
        except ValidationError as exc:
            raise PydanticCustomError("keyguard", exc.issues[0].message) from None
        return str(normal)

    return run


def _origin(value: Any) -> str:
    normal = str(_item(validate_origins)(value))
    # The core lowercases before matching, which lets some non-ASCII letters (the Kelvin sign)
    # and digits of other scripts through; the API takes what its pattern says, no more.
    if not _ORIGIN.fullmatch(value):
        raise PydanticCustomError("keyguard", "must be an origin written in ASCII")
    return normal


def at_most(count: int, what: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, list) and len(value) > count:
            raise PydanticCustomError("keyguard", f"must hold at most {count} {what}")
        return value

    return BeforeValidator(check)


Permission = Annotated[
    str,
    PlainValidator(_item(lambda v: [validate_permission(v[0])])),
    WithJsonSchema({"type": "string", "pattern": f"^{PERMISSION_PATTERN.pattern}$"}),
]
Origin = Annotated[
    str,
    PlainValidator(_origin),
    WithJsonSchema({"type": "string", "maxLength": _MAX_ORIGIN, "pattern": ORIGIN_PATTERN}),
]
Network = Annotated[
    str,
    PlainValidator(_item(validate_networks)),
    WithJsonSchema({"type": "string", "maxLength": _MAX_NETWORK, "format": NETWORK_FORMAT}),
]
PermissionList = Annotated[
    list[Permission], Field(max_length=MAX_PERMISSIONS), at_most(MAX_PERMISSIONS, "permissions")
]
# At least one place: a key usable from nowhere is a mistake, and null lifts the restriction.
OriginList = Annotated[
    list[Origin], Field(min_length=1, max_length=MAX_PLACES), at_most(MAX_PLACES, "entries")
]
NetworkList = Annotated[
    list[Network], Field(min_length=1, max_length=MAX_PLACES), at_most(MAX_PLACES, "entries")
]
# What each field means, null included: said once, on the field, for requests and answers.
PERMISSIONS_NOTE = (
    "What the key may do: `resource:action` in lowercase (e.g. `orders:write`), or"
    " `resource:*` for every action of a resource; an empty list: nothing. " + _NOT_RESTRICTED
)
ORIGINS_NOTE = (
    "Publishable keys only: the browser origins it may be used from, exact"
    " (`https://shop.example.com`) or a wildcard below a domain (`https://*.example.com`);"
    " stored in lowercase, default ports dropped. " + _ANYWHERE
)
NETWORKS_NOTE = (
    "Secret keys only: the networks it may be used from, as CIDR ranges (`10.0.0.0/8`,"
    " `2001:db8::/32`; a bare address is its own /32 or /128) with no host bits set"
    " (`10.0.0.1/8` is refused). " + _ANYWHERE
)
UsableFrom = Annotated[
    Literal["anywhere", "allowedOrigins", "allowedNetworks"],
    Field(
        description=(
            "Which list says where the key may be used from; `anywhere`: it has none, so it"
            " works from anywhere."
        )
    ),
]


def _only_for(access: str, field: str) -> JsonDict:
    return {
        "if": {"properties": {"access": {"const": access}}, "required": ["access"]},
        "then": {"properties": {field: {"type": "null"}}},
    }


# What a new key's access allows it to carry: origins are for publishable keys, networks for
# secret keys; a list on the other kind is refused (400), so the schema forbids it too.
CREATE_RESTRICTION_RULES: JsonDict = {
    "allOf": [_only_for("secret", "allowedOrigins"), _only_for("publishable", "allowedNetworks")]
}

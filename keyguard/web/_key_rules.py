"""One key's restrictions compiled for the request path, once per cached record: what it may do
(permissions, checked against the app's route table) and where it may be used from (allowed
origins, allowed networks, and no secret key from a browser). Every check reads the request's
scope and the compiled record: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from starlette.types import Scope

from keyguard.core import (
    Access,
    AuditEventType,
    KeyRecord,
    NetworkMatcher,
    OriginMatcher,
    Permissions,
    browser_signal,
    redact_keys,
    request_origin,
)

from ._refusals import Refusal

__all__ = ["KeyRules", "PlaceRefusal"]

_MAX_SHOWN = 300  # what an audit row keeps of a header the client chose


class PlaceRefusal(NamedTuple):
    """A valid key used from the wrong place: the answer, and the audit event it may earn."""

    refusal: Refusal
    event: AuditEventType
    data: Mapping[str, str | None]


class KeyRules:
    __slots__ = (
        "_networks",
        "_origins",
        "_refuse_browsers",
        "browser_check_only",
        "cors",
        "permissions",
    )

    def __init__(self, record: KeyRecord, *, refuse_browsers: bool, cors: bool) -> None:
        secret = record.access is Access.SECRET
        self.permissions = None if record.permissions is None else Permissions(record.permissions)
        self._origins = (
            None if record.allowed_origins is None else OriginMatcher(record.allowed_origins)
        )
        self._networks = (
            None if record.allowed_networks is None else NetworkMatcher(record.allowed_networks)
        )
        self._refuse_browsers = secret and refuse_browsers
        self.cors = cors and not secret  # a browser may read what a publishable key fetched
        # An unrestricted secret key: the hot path checks for a browser inline, nothing else.
        self.browser_check_only = (
            self._refuse_browsers
            and self.permissions is None
            and self._networks is None
            and self._origins is None
        )

    @classmethod
    def build(cls, record: KeyRecord, *, refuse_browsers: bool, cors: bool) -> KeyRules | None:
        """The key's rules, or None when there is nothing to check (nor to add)."""
        rules = cls(record, refuse_browsers=refuse_browsers, cors=cors)
        if (
            rules.permissions is None
            and rules._origins is None
            and rules._networks is None
            and not rules._refuse_browsers
            and not rules.cors
        ):
            return None
        return rules

    def misplaced(
        self, scope: Scope, client_address: Callable[[Scope], str]
    ) -> PlaceRefusal | None:
        """Why the request comes from a place the key may not be used from, if it does."""
        headers = scope["headers"]
        if self._refuse_browsers:
            signal = browser_signal(headers)
            if signal is not None:
                return PlaceRefusal(
                    Refusal.FROM_BROWSER, AuditEventType.REFUSED_BROWSER, {"signal": signal}
                )
        if self._networks is not None:
            client = client_address(scope)
            if not self._networks.allows(client):
                data = {"client": _shown(client)}
                return PlaceRefusal(Refusal.WRONG_NETWORK, AuditEventType.REFUSED_NETWORK, data)
        if self._origins is not None:
            origin = request_origin(headers)
            if origin is None or not self._origins.allows(origin):
                named = {"origin": None if origin is None else _shown(origin)}
                return PlaceRefusal(Refusal.WRONG_ORIGIN, AuditEventType.REFUSED_ORIGIN, named)
        return None


def _shown(text: str) -> str:
    """A client's header as an audit row keeps it: bounded, and never holding a key."""
    return redact_keys(text)[:_MAX_SHOWN]  # redacted whole: a cut key would escape the pattern

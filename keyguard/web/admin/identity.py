"""Who is using the admin page: the host app's answer to "who is this request?"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

__all__ = ["AdminIdentity", "Identify"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminIdentity:
    """A person signed in to the host app, as the page sees them.

    `account`: whose keys the page shows (never another account's). `name`: who they are, as the
    audit log records it (`actor` is `"person:<name>"`). `owner`: what keys they create are owned
    by; with `own_keys_only` they see and touch those keys alone. `manages_live`: False limits
    them to the keys of every environment but the page's live one.
    """

    account: str
    name: str
    owner: str | None = None
    own_keys_only: bool = False
    manages_live: bool = True

    def __post_init__(self) -> None:
        for field in ("account", "name"):
            if not getattr(self, field):
                raise ValueError(f"an AdminIdentity needs a {field}")
        if self.own_keys_only and self.owner is None:
            raise ValueError("own_keys_only needs an owner: the keys it limits the person to")

    @property
    def actor(self) -> str:
        return f"person:{self.name}"


# The host app's sign-in, asked on every request: an identity, or None for nobody.
Identify = Callable[[Request], Awaitable[AdminIdentity | None]]

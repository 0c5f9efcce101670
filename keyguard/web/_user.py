"""What a verified request carries, in the shapes Starlette's authentication uses, so that
`request.user`, `request.auth` and `@requires(...)` work unchanged behind keyguard."""

from __future__ import annotations

from starlette.authentication import AuthCredentials, BaseUser

from keyguard.core import KeyRecord

__all__ = ["APIKeyUser", "credentials_for", "scopes_for"]


def scopes_for(record: KeyRecord) -> list[str]:
    """`authenticated`, the access (`secret` or `publishable`) and the environment (`env:live`)."""
    return ["authenticated", record.access.value, f"env:{record.environment}"]


class APIKeyUser(BaseUser):
    """The key as Starlette's `request.user`; the full record is `request.user.key`."""

    __slots__ = ("key",)

    def __init__(self, key: KeyRecord) -> None:
        self.key = key

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.key.name

    @property
    def identity(self) -> str:
        return self.key.id

    def __repr__(self) -> str:
        return f"APIKeyUser(id={self.key.id!r}, name={self.key.name!r})"


def credentials_for(record: KeyRecord) -> AuthCredentials:
    return AuthCredentials(scopes_for(record))

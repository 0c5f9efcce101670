"""What a verified request carries, in the shapes Starlette's authentication uses, so that
`request.user`, `request.auth` and `@requires(...)` work unchanged behind keyguard."""

from __future__ import annotations

from starlette.authentication import AuthCredentials, BaseUser

from keyguard.core import KeyRecord, Permissions, is_permission

__all__ = ["APIKeyUser", "KeyScopes", "credentials_for", "scopes_for"]


def scopes_for(record: KeyRecord) -> list[str]:
    """`authenticated`, the access (`secret` or `publishable`) and the environment (`env:live`)."""
    return ["authenticated", record.access.value, f"env:{record.environment}"]


class KeyScopes(list[str]):
    """`request.auth.scopes`: the key's fixed scopes (`scopes_for`) and a restricted key's
    permissions, listed; and a membership test that answers for any permission, which is what
    `@requires("orders:write")` asks: an unrestricted key holds every permission (what it may
    call is its access's business), a restricted one what it was granted, `orders:*` included."""

    __slots__ = ("_granted",)

    def __init__(self, record: KeyRecord) -> None:
        super().__init__([*scopes_for(record), *sorted(record.permissions or ())])
        self._granted = None if record.permissions is None else Permissions(record.permissions)

    def __contains__(self, scope: object) -> bool:
        if list.__contains__(self, scope):
            return True
        if not is_permission(scope):  # `env:test` and `secret` are facts, not grants
            return False
        assert isinstance(scope, str)
        return self._granted is None or self._granted.allows(scope)


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
    credentials = AuthCredentials()
    credentials.scopes = KeyScopes(record)
    return credentials

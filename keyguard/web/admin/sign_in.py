"""Sign-in with a one-time token printed on the terminal, as Jupyter does: for `keyguard demo`
and `keyguard admin`, where there is no host app to say who is signed in."""

from __future__ import annotations

import getpass
import hmac
import secrets

from .identity import AdminIdentity

__all__ = ["TokenSignIn"]


class TokenSignIn:
    """One token, good for one sign-in: the link stops working once used. The person it signs
    in is fixed when the page starts."""

    def __init__(self, identity: AdminIdentity) -> None:
        self.identity = identity
        self._token: str | None = secrets.token_urlsafe(32)

    @classmethod
    def for_operator(
        cls, account: str, *, owner: str | None = None, manages_live: bool = True
    ) -> TokenSignIn:
        """Signs in whoever runs this process (their login name), for `account`."""
        try:
            name = getpass.getuser()
        except (OSError, KeyError):  # no login name in a bare container
            name = "operator"
        identity = AdminIdentity(
            account=account,
            name=name,
            owner=owner,
            own_keys_only=False,
            manages_live=manages_live,
        )
        return cls(identity)

    def link(self, page_url: str) -> str:
        """Where to point a browser: the page's sign-in with the token. Print it once."""
        if self._token is None:
            raise RuntimeError("the sign-in token was used already")
        return f"{page_url.rstrip('/')}/sign-in?token={self._token}"

    def redeem(self, token: str) -> AdminIdentity | None:
        """The identity, the first time the right token is offered; None ever after."""
        if self._token is None or not hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        self._token = None
        return self.identity

    def __repr__(self) -> str:
        used = "used" if self._token is None else "unused"
        return f"TokenSignIn(identity={self.identity!r}, token=<{used}>)"

"""What the middleware derives from a key's record once, not per request: its Starlette
credentials and user, its restriction rules, and its usage-limit plan, all immutable."""

from __future__ import annotations

from typing import NamedTuple

from starlette.authentication import AuthCredentials

from keyguard.core import KeyRecord
from keyguard.ports import Decision
from keyguard.services import UsageLimiting, UsagePlan

from ._key_rules import KeyRules
from ._user import APIKeyUser, credentials_for

__all__ = ["Identities", "Identity"]

_MAX_IDENTITIES = 10_000


class Identity(NamedTuple):
    record: KeyRecord
    credentials: AuthCredentials
    user: APIKeyUser
    rules: KeyRules | None  # None: nothing to check or add for this key
    usage: UsagePlan | None  # None: nothing limits its use: no I/O
    # Nothing to check but the browser signal (if that), nothing to count: worked out once.
    plain: bool
    accepted: Decision  # for an observer: this key's requests let in


class Identities:
    """A bounded memo by key id; a changed key is a new record, so a new identity."""

    def __init__(self, usage: UsageLimiting, *, refuse_browsers: bool, cors: bool) -> None:
        self._usage = usage
        self._refuse_browsers = refuse_browsers
        self._cors = cors
        self._by_id: dict[str, Identity] = {}

    def of(self, record: KeyRecord) -> Identity:
        memo = self._by_id.get(record.id)
        if memo is None or memo.record is not record:
            if len(self._by_id) >= _MAX_IDENTITIES:
                self._by_id.clear()
            rules = KeyRules.build(record, refuse_browsers=self._refuse_browsers, cors=self._cors)
            usage = self._usage.plan(record)
            plain = usage is None and (rules is None or rules.browser_check_only)
            accepted = Decision(
                True, "accepted", "", 0, record.access.value, record.environment, record.id
            )
            memo = Identity(
                record, credentials_for(record), APIKeyUser(record), rules, usage, plain, accepted
            )
            self._by_id[record.id] = memo
        return memo

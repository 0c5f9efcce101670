"""Leaked keys: a report that a key was found in public (by GitHub's secret scanning, or any
scanner) revokes it, or only flags it, and leaves an `api_key.leaked` audit row saying where.

A reported token costs nothing unless it is shaped like one of our keys (checksum included);
then one lookup per pepper. A token is ours if a key is stored under its digest, in any state:
a revoked key reported again is still a true report, and its audit log says it leaked.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from keyguard.core import (
    AuditEventType,
    KeyHasher,
    KeyRecord,
    redact_keys,
    utcnow,
)

from ._key_changes import Act, audit_event, log_change
from ._lifecycle import KeyManager

__all__ = ["LEAK_ACTOR", "LeakAction", "LeakFinding", "LeakReports"]

logger = logging.getLogger(__name__)
LEAK_ACTOR = "secret-scanning"
MAX_WHERE_LENGTH = 2048
_UNSTORABLE = re.compile("[\0\ud800-\udfff]")


class LeakAction(enum.StrEnum):
    REVOKE = "revoke"  # the default: a key in public is a key anyone may use
    FLAG = "flag"  # only the audit row and a warning, for teams that revoke by hand


class LeakFinding(NamedTuple):
    """What became of one reported token: whose key it was (None: not one of ours), and what
    was done (`revoked`, `flagged`, or `none` for a key already revoked or expired)."""

    key_id: str | None
    action: str

    @property
    def ours(self) -> bool:
        return self.key_id is not None


NOT_OURS = LeakFinding(None, "none")


class LeakReports:
    def __init__(
        self,
        manager: KeyManager,
        *,
        previous_hashers: Sequence[KeyHasher] = (),
        action: LeakAction | str = LeakAction.REVOKE,
        actor: str = LEAK_ACTOR,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.manager = manager
        self.hashers = (manager.hasher, *previous_hashers)
        self.action = LeakAction(action)
        self.actor = actor
        self._clock = clock

    async def report(
        self, token: str, *, where: str | None, source: str | None, request_id: str | None
    ) -> LeakFinding:
        """Act on one reported token. Raises `UnavailableError` when the store cannot answer
        (nothing was done: the reporter should send the report again)."""
        if not self.manager.key_format.is_well_formed(token):
            return NOT_OURS
        record = await self._find(token)
        if record is None:
            return NOT_OURS
        data = {"url": _clean(where), "source": _clean(source)}
        return await self._record(record.id, record.account, data, request_id)

    async def _find(self, token: str) -> KeyRecord | None:
        for hasher in self.hashers:
            record = await self.manager.store.find_by_digest(hasher.digest(token))
            if record is not None:
                return record
        return None

    async def _record(
        self, key_id: str, account: str, data: dict[str, Any], request_id: str | None
    ) -> LeakFinding:
        now = self._clock()
        act = Act(self.actor, request_id, now)
        change = None
        async with self.manager.store.transaction(account) as tx:
            stored = await tx.get_key(key_id)
            if stored is None:  # deleted since we looked: nothing left to leak
                return NOT_OURS
            record = stored.record
            action = self._action_for(record, now)
            await tx.insert_audit(
                audit_event(AuditEventType.LEAKED, record, act, {**data, "action": action})
            )
            if action == "revoked":
                record = dataclasses.replace(record, revoked_at=now)
                await tx.update_key(record)
                revoked = AuditEventType.REVOKED
                change = await log_change(tx, revoked, record, stored.digest, act, {"leaked": True})
        if change is not None:
            await self.manager.announce(change)
        logger.warning(
            "API key %s was reported found in public (%s); action: %s", key_id, data["url"], action
        )
        return LeakFinding(key_id, action)

    def _action_for(self, record: KeyRecord, now: datetime) -> str:
        if not record.is_valid(now):
            return "none"
        return "revoked" if self.action is LeakAction.REVOKE else "flagged"


def _clean(text: str | None) -> str | None:
    """Where a key was found, as the reporter said it: any key in it cut to prefix…last4 (a
    URL may quote the very key it points at), then bounded, and with what no store can hold
    (NUL, lone surrogates) replaced, so that the report's revocation cannot fail on it."""
    if text is None:
        return None
    return _UNSTORABLE.sub("\ufffd", redact_keys(text)[:MAX_WHERE_LENGTH])

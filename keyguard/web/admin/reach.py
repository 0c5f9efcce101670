"""What a person may see and touch: their account's keys, of the environments they manage, and
with `own_keys_only` their own. Anything else is "no such key", exactly like an unknown id."""

from __future__ import annotations

from starlette.exceptions import HTTPException

from keyguard.core import KeyRecord, NotFoundError, id_pattern

from .visit import Visit

__all__ = ["environments", "find_key", "reaches"]

_KEY_ID = id_pattern("key_")


def environments(visit: Visit) -> tuple[str, ...]:
    """The environments whose keys this person manages, in the server's order (never none:
    someone who may manage no environment's keys gets a 403 page)."""
    everything = visit.page.environments
    if visit.identity.manages_live:
        return everything
    allowed = tuple(e for e in everything if e != visit.page.live_environment)
    if not allowed:
        raise HTTPException(403, "You may not manage the keys of any environment here.")
    return allowed


def reaches(visit: Visit, record: KeyRecord) -> bool:
    identity = visit.identity
    return (
        record.account == identity.account
        and record.environment in environments(visit)
        and (not identity.own_keys_only or record.owner == identity.owner)
    )


async def find_key(visit: Visit, key_id: str | None = None) -> KeyRecord:
    key_id = key_id or visit.request.path_params["id"]
    if not _KEY_ID.fullmatch(key_id):
        raise NotFoundError("no such key")
    record = await visit.page.manager.get(key_id, account=visit.identity.account)
    if not reaches(visit, record):
        raise NotFoundError("no such key")
    return record

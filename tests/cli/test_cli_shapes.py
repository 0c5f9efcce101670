"""The CLI's `--json` is the management API's shape, as the README says: the same fields with
the same values for the same records, plus `account` (and `owner` for keys), since the CLI
answers for every account and the API for one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware, management_routes

from ._support import PEPPER, Cli

ADDED = {"account", "owner"}


def _api(database_url: str, value: str, *paths: str) -> list[Any]:
    """`data` of GET on each path, as the key `value` sees it through the API."""

    async def get() -> list[Any]:
        async with KeyGuard(Settings(database_url=database_url, pepper=PEPPER)) as guard:
            app = APIKeyMiddleware(Starlette(routes=management_routes(guard)), guard=guard)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                headers = {"authorization": f"Bearer {value}"}
                answers = [await client.get(path, headers=headers) for path in paths]
        return [answer.json()["data"] for answer in answers]

    return asyncio.run(get())


def _without(view: dict[str, Any], names: set[str], *more: str) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in names | set(more)}


def test_keys_and_audit_events_have_the_apis_shape(cli: Cli, account: str) -> None:
    value, caller = cli.create(account, "caller", env="live")
    _, other = cli.create(account, "other", access="publishable", extra=["--owner", "o1"])
    cli.ok("keys", "rename", other["id"], "renamed")
    shown = cli.record(other["id"])
    listed = cli.ok("keys", "list", "--account", account, "--json").json()
    audit = cli.ok("audit", "--account", account, "--json").json()

    keys = "/v1/account/api-keys"
    one, rows, events = _api(
        cli.database_url or "", value, f"{keys}/{other['id']}", keys, "/v1/account/audit-log"
    )
    # lastUsedAt moves as the API is called with `caller`; `other` is never used.
    assert _without(shown, ADDED) == one
    assert (shown["account"], shown["owner"]) == (account, "o1")
    by_id = {row["id"]: row for row in rows}
    for row in listed:
        assert _without(row, ADDED, "lastUsedAt") == _without(by_id[row["id"]], set(), "lastUsedAt")
    assert [_without(e, {"account"}) for e in audit] == events
    assert {e["account"] for e in audit} == {account}
    assert set(caller) - ADDED == set(one)  # `keys create --json`, less the value taken out

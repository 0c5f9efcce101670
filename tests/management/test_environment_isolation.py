"""A test key reads test keys' history only: the audit log, filtered or not, shows it nothing of
a live key, while a live key reads both (issue 11, finding 1). Events carry the environment."""

from __future__ import annotations

import httpx

from keyguard import KeyGuard

from .conftest import AUDIT, KEYS, Caller, envelope, make_caller


async def test_a_test_key_never_reads_a_live_keys_history(
    guard: KeyGuard, client: httpx.AsyncClient, account: str, admin: Caller
) -> None:
    live = envelope(
        await admin.post(KEYS, json={"name": "live-billing", "environment": "live",
                                     "access": "secret"}),
        201,
    )  # fmt: skip
    await admin.patch(f"{KEYS}/{live['id']}", json={"name": "live-billing-2"})
    tester = await make_caller(guard, client, account, environment="test")
    test_key = envelope(
        await tester.post(KEYS, json={"name": "ci", "environment": "test", "access": "secret"}),
        201,
    )
    filtered = envelope(await tester.get(f"{AUDIT}?keyId={live['id']}"), 200)
    assert filtered == []
    seen = envelope(await tester.get(f"{AUDIT}?limit=100"), 200)
    assert seen, "the test key's own history is there"
    assert {e["environment"] for e in seen} == {"test"}
    assert live["id"] not in {e["keyId"] for e in seen}
    assert "live-billing" not in str(seen)
    everything = envelope(await admin.get(f"{AUDIT}?limit=100"), 200)
    assert {live["id"], test_key["id"]} <= {e["keyId"] for e in everything}
    assert {e["environment"] for e in everything} == {"live", "test"}
    assert envelope(await tester.get(f"{KEYS}/{live['id']}"), 403, "FORBIDDEN")

"""Reports already acted on are refused for a week, a failed one may come again, and memory
stays bounded."""

from __future__ import annotations

from keyguard.web.secret_scanning.replays import ReplayMemory


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_body_is_claimed_once_within_the_window_then_again_after_it() -> None:
    clock = Clock()
    memory = ReplayMemory(window=100.0, clock=clock)
    assert memory.claim(b"[1]") is not None
    assert memory.claim(b"[1]") is None
    assert memory.claim(b"[2]") is not None
    clock.now = 100.0
    assert memory.claim(b"[1]") is not None


def test_a_released_claim_may_be_made_again() -> None:
    memory = ReplayMemory()
    claim = memory.claim(b"[1]")
    assert claim is not None
    memory.release(claim)
    assert memory.claim(b"[1]") is not None


def test_the_oldest_is_forgotten_past_the_bound() -> None:
    memory = ReplayMemory(max_entries=2)
    for body in (b"a", b"b", b"c"):
        assert memory.claim(body) is not None
    assert memory.claim(b"a") is not None  # pushed out by c
    assert memory.claim(b"c") is None

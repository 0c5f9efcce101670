"""Rate limits and quotas on a real Redis Cluster: tests of `tests/stores/test_redis_rate_limits.py`
and `test_redis_quotas.py` run here again, on the cluster (this folder's `redis_url`): the
script decides exactly as the core, holds under concurrency, and a key's hash is one key."""

from __future__ import annotations

from keyguard.adapters import RedisRateLimiter
from keyguard.core import parse_rate_limit

from ..stores import conftest as fixtures
from ..stores import test_redis_quotas as quotas
from ..stores import test_redis_rate_limits as rates

limiter = fixtures.limiter
loop_and_limiter = fixtures.loop_and_limiter

test_the_script_decides_and_stores_exactly_as_the_core = (
    rates.test_the_script_decides_and_stores_exactly_as_the_core
)
test_the_widest_limit_is_exact_at_its_full_burst = (
    rates.test_the_widest_limit_is_exact_at_its_full_burst
)
test_200_concurrent_checks_admit_exactly_the_limit = (
    rates.test_200_concurrent_checks_admit_exactly_the_limit
)
test_a_changed_limit_starts_fresh_and_a_renamed_one_keeps_its_count = (
    rates.test_a_changed_limit_starts_fresh_and_a_renamed_one_keeps_its_count
)
test_forget_drops_the_counters = rates.test_forget_drops_the_counters
test_keys_do_not_share_counters = rates.test_keys_do_not_share_counters
test_one_sharing_the_caches_client_counts_under_the_caches_prefix = (
    rates.test_one_sharing_the_caches_client_counts_under_the_caches_prefix
)
test_the_state_expires_within_the_longest_window = (
    rates.test_the_state_expires_within_the_longest_window
)

test_every_decision_is_the_cores = quotas.test_every_decision_is_the_cores
test_two_hundred_at_once_spend_a_quota_exactly = (
    quotas.test_two_hundred_at_once_spend_a_quota_exactly
)
test_a_new_setting_starts_the_count_over = quotas.test_a_new_setting_starts_the_count_over
test_refills_follow_the_clock_on_their_schedule = (
    quotas.test_refills_follow_the_clock_on_their_schedule
)
test_a_refused_rate_spends_no_quota = quotas.test_a_refused_rate_spends_no_quota
test_forgetting_a_key_drops_its_quota = quotas.test_forgetting_a_key_drops_its_quota
test_a_count_out_of_range_in_redis_is_cache_unavailable = (
    quotas.test_a_count_out_of_range_in_redis_is_cache_unavailable
)


async def test_a_script_missing_on_a_node_is_sent_whole_to_it(
    limiter: RedisRateLimiter,
) -> None:
    """As on a promoted replica, which has none of the scripts its master had."""
    limits = [parse_rate_limit("2/m")]
    assert (await limiter.check("k", limits, now_ms=1_000)).admitted
    await limiter.client.script_flush()  # on every master
    assert (await limiter.check("k", limits, now_ms=1_000)).remaining == (0,)

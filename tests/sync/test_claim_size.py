"""A claim is a whole number of the destination's calls, so no call goes out part-full for want of a claim."""

import pytest

from sync.constants import CLAIMED_CALLS
from sync.export_engine import whole_batches


@pytest.mark.parametrize("batch_size", [1, 2, 7, 30, 50, 100])
@pytest.mark.parametrize("limit", [1, 5, 29, 30, 31, 50, 59, 60, 200, 1000])
def test_a_claim_fills_whole_calls_within_its_limit(limit: int, batch_size: int) -> None:
    claimed = whole_batches(limit, batch_size)
    assert 1 <= claimed <= max(min(limit, batch_size * CLAIMED_CALLS), batch_size)
    if limit >= batch_size:
        assert claimed % batch_size == 0  # 50 claimed for calls of 30 would be 30 + 20: two calls, one part-full
    else:
        assert claimed == limit


def test_a_claim_of_fifty_for_calls_of_thirty_is_one_full_call() -> None:
    assert whole_batches(50, 30) == 30
    assert whole_batches(50, 50) == 50

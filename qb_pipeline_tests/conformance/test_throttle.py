"""QBO's per-realm throttle as python-quickbooks surfaces it (it has no retry of its own).

Real: over the per-realm request budget -> HTTP 429 with fault 3001
``ThrottleExceeded``, which python-quickbooks raises as ``ValidationException`` (its code
ranges put 3001 there); the throttled call changes nothing. Faked: the throttle is switched
on for this test only through the emulator's config (the session runs with it off), with a
per-minute budget of 3 instead of 500 so the test needs no timing.
"""

from __future__ import annotations

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books


def test_burst_is_throttled(
    em: Emulator, qb: QuickBooks, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(em.config.limits, "enabled", True)
    monkeypatch.setattr(em.config.limits, "requests_per_minute", 3)
    assert [Customer.count(qb=qb) for _ in range(3)] == [0, 0, 0]
    with pytest.raises(ValidationException) as throttled:
        Customer.count(qb=qb)
    assert throttled.value.error_code == 3001
    assert "ThrottleExceeded" in throttled.value.message
    assert em.limiter.counters(books.realm_id)["throttled"] == 1
    assert books.objects["Customer"] == {}

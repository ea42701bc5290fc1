"""Unit tests of the retry policy (no network): which failures are retried, and how long the
waits are (exponential backoff with full jitter, Retry-After honoured, 60 s after a bare 429)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qb_pipeline.qbo import retry
from qb_pipeline.qbo.errors import (
    AuthError,
    BusinessRuleError,
    ForbiddenError,
    NotFoundError,
    RealmDisconnected,
    StaleObjectError,
    ThrottledError,
    TransientError,
    ValidationError,
    from_response,
)
from qb_pipeline.qbo.retry import RetryPolicy, retry_delay, should_retry, wait_for


def test_constants_follow_the_issue() -> None:
    assert retry.INITIAL_RETRY_DELAY == 1.0
    assert retry.MAX_RETRY_DELAY == 60.0
    assert retry.THROTTLE_WAIT == 60.0
    assert retry.MAX_ATTEMPTS >= 3


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "error",
    [
        ValidationError("bad field", code="2020"),
        StaleObjectError("stale", code="5010"),
        NotFoundError("gone", code="610"),
        BusinessRuleError("rule", code="6000"),
        ForbiddenError("no", code="3100"),
        AuthError("401"),
        RealmDisconnected("invalid_grant"),
        ValueError("a bug"),
    ],
)
def test_request_errors_and_auth_are_never_retried(error: Exception, method: str) -> None:
    assert not should_retry(error, method, has_request_id=True)


def test_transient_errors_retry_reads_always_and_posts_only_with_a_request_id() -> None:
    server_error = from_response(500, b'{"Fault":{"Error":[{"code":"10000"}]}}')
    assert isinstance(server_error, TransientError)
    assert should_retry(server_error, "GET", has_request_id=False)
    assert should_retry(server_error, "POST", has_request_id=True)
    assert not should_retry(server_error, "POST", has_request_id=False)


def test_dropped_connections_and_timeouts_are_transient() -> None:
    for cause in (
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("connection reset"),
    ):
        assert should_retry(cause, "GET", has_request_id=False)
        assert should_retry(cause, "POST", has_request_id=True)
        assert not should_retry(cause, "POST", has_request_id=False)  # it may have been done


def test_a_post_that_never_left_may_be_retried_without_request_id() -> None:
    wrapped = TransientError("ConnectError: refused")
    wrapped.__cause__ = httpx.ConnectError("refused")
    assert should_retry(wrapped, "POST", has_request_id=False)


def test_a_throttled_post_is_retried() -> None:
    throttled = from_response(429, b'{"Fault":{"Error":[{"code":"3001"}],"type":"SERVICE"}}')
    assert isinstance(throttled, ThrottledError)
    assert should_retry(throttled, "POST", has_request_id=False)


def test_backoff_doubles_from_one_second_up_to_sixty() -> None:
    top = [retry_delay(n, None, rng=lambda: 1.0) for n in range(9)]
    assert top == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert retry_delay(10_000, None, rng=lambda: 1.0) == 60.0


@given(attempt=st.integers(0, 50), fraction=st.floats(0, 1))
def test_full_jitter_spans_zero_to_the_cap(attempt: int, fraction: float) -> None:
    cap = min(60.0, 2.0**attempt)
    delay = retry_delay(attempt, None, rng=lambda: fraction)
    assert 0.0 <= delay <= cap
    assert delay == pytest.approx(cap * fraction)


def test_full_jitter_really_varies() -> None:
    delays = {retry_delay(4, None) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) < 8.0 < max(delays) <= 16.0


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    assert retry_delay(0, 7.0) == 7.0
    assert retry_delay(5, 0.0) == 0.0
    assert retry_delay(0, 600.0) == 60.0
    short = RetryPolicy(initial_delay=0.01, max_delay=0.5)
    assert retry_delay(0, 60.0, policy=short) == 0.5


def test_a_bare_429_waits_sixty_seconds_and_a_header_wins() -> None:
    bare = ThrottledError("throttled", code="3001", status=429)
    assert wait_for(bare, 0) == 60.0
    told = ThrottledError("throttled", code="3001", status=429, retry_after=3.0)
    assert wait_for(told, 0) == 3.0
    plain = TransientError("500", status=500)
    assert 0.0 <= wait_for(plain, 0) <= 1.0


def test_retry_after_header_forms() -> None:
    assert retry.parse_retry_after({"Retry-After": "60"}) == 60.0
    assert retry.parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    date = "Wed, 21 Oct 2015 07:28:30 GMT"
    assert retry.parse_retry_after({"Retry-After": date}, now=1445412500.0) == 10.0
    assert retry.parse_retry_after({"Retry-After": "soon"}) is None
    assert retry.parse_retry_after({}) is None


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(initial_delay=-1)

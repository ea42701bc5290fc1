"""When and how long the QBO client waits before trying a failed call again.

After openai-python's ``_base_client``: a few constants, ``should_retry`` and
``retry_delay``. Only transient failures (5xx, timeouts, dropped connections) and throttles
(429 / fault 3001) are retried; a POST only when it carries a ``requestid``, because QBO
replays the first answer to a repeated requestid instead of doing the write twice
(API_FACTS 1.6). Delays grow exponentially from 1 s with FULL jitter (uniform between zero
and the cap, so many clients throttled together spread out) up to 60 s. A ``Retry-After``
header is honoured (up to ``max_delay``); a 429 without one waits 60 s, as QBO's
documentation asks.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from qb_pipeline.qbo.errors import QBOError, ThrottledError

INITIAL_RETRY_DELAY = 1.0  # seconds before the first retry (upper bound of its jitter)
MAX_RETRY_DELAY = 60.0  # no single wait is longer
THROTTLE_WAIT = 60.0  # "If you see this, wait 60 seconds before retrying" (429 without header)
MAX_ATTEMPTS = 6  # the first try and five retries

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures where the request never reached the server: safe to repeat for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which the server may or may not have acted: transient, but a POST needs a
# requestid to be repeated safely.
_TRANSIENT_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts and how long between them; tests shorten the delays."""

    max_attempts: int = MAX_ATTEMPTS
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    throttle_wait: float = THROTTLE_WAIT

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.throttle_wait < 0:
            raise ValueError("retry delays must not be negative")


DEFAULT_POLICY = RetryPolicy()


def _transport_cause(error: BaseException) -> BaseException | None:
    """The httpx transport error behind ``error`` (itself, or its ``__cause__``)."""
    for candidate in (error, error.__cause__):
        if isinstance(candidate, httpx.TransportError):
            return candidate
    return None


def is_transient(error: BaseException) -> bool:
    """True for 5xx, 429, timeouts and dropped or refused connections."""
    if isinstance(error, QBOError):
        return error.retryable
    return isinstance(error, _TRANSIENT_TRANSPORT)


def should_retry(error: BaseException, method: str, has_request_id: bool) -> bool:
    """Whether a call that failed with ``error`` may be sent again.

    Transient and throttled failures only. A non-idempotent POST is repeated only when it
    carries a requestid (QBO then replays, never re-executes), or when the failure shows the
    request never left this machine (connection refused, connect timeout).
    """
    if not is_transient(error):
        return False
    if method.upper() in IDEMPOTENT_METHODS or has_request_id:
        return True
    if isinstance(error, ThrottledError):
        return True  # QBO refused it before doing anything
    return isinstance(_transport_cause(error), _NOT_SENT)


def retry_delay(
    attempt: int,
    retry_after: float | None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = the first retry).

    The server's ``retry_after`` when given (capped at ``policy.max_delay``); otherwise full
    jitter: uniform in [0, min(max_delay, initial_delay * 2**attempt)].
    """
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, policy.max_delay)
    ceiling = min(policy.max_delay, policy.initial_delay * 2.0 ** min(max(attempt, 0), 60))
    return ceiling * rng()


def wait_for(error: BaseException, attempt: int, policy: RetryPolicy = DEFAULT_POLICY) -> float:
    """The delay before retrying after ``error``: its Retry-After, 60 s for a bare 429, else
    exponential backoff with full jitter."""
    retry_after = error.retry_after if isinstance(error, QBOError) else None
    if retry_after is None and isinstance(error, ThrottledError):
        retry_after = policy.throttle_wait
    return retry_delay(attempt, retry_after, policy=policy)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``; None if
    absent or unreadable."""
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)

"""The emulator's clock: real time plus an offset the back door can advance.

Real QBO stamps ``MetaData`` with seconds and the company's UTC offset
(``2023-02-18T13:13:33-08:00``) and the envelope ``time`` with milliseconds.
Sandbox companies live in US/Pacific; so do ours unless a realm says otherwise.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

COMPANY_TZ = ZoneInfo("America/Los_Angeles")


class Clock:
    """Wall clock with a settable offset; thread-safe. ``frozen`` pins it (generator, tests)."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = offset_seconds
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Aware UTC now, as the emulator sees it."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.fromtimestamp(time.time() + self._offset, UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += seconds
        return self.now()

    def freeze(self, at: datetime | None) -> None:
        """Pin the clock at ``at`` (aware), or release it with None (keeping the offset)."""
        with self._lock:
            if at is None and self._frozen is not None:
                self._offset = self._frozen.timestamp() - time.time()
            self._frozen = at

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset


def company_now(clock: Clock) -> datetime:
    return clock.now().astimezone(COMPANY_TZ)


def company_today(clock: Clock) -> date:
    return company_now(clock).date()


def meta_time(moment: datetime) -> str:
    """``MetaData`` stamp: seconds precision, company offset, e.g. 2023-02-18T13:13:33-08:00."""
    return moment.astimezone(COMPANY_TZ).replace(microsecond=0).isoformat()


def envelope_time(moment: datetime) -> str:
    """Envelope ``time``: milliseconds and offset, e.g. 2020-09-29T08:02:53.512-07:00."""
    return moment.astimezone(COMPANY_TZ).isoformat(timespec="milliseconds")


def parse_qbo_datetime(text: str) -> datetime:
    """Parse what clients send: ISO dates or datetimes, with offset, Z, or none (company time)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=COMPANY_TZ)
    return parsed

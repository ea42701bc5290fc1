"""One webhook delivery: its record in the outbox, and the two ways of making an attempt.

Real: a POST of the signed body with ``Content-Type`` and ``intuit-signature``; any 2xx is an
acknowledgement, anything else (other status, timeout, connection error) a failure.
Faked: the ``intuit-t-id`` header carries the emulator's delivery id (Intuit sends its own
tracking ids); the files target, which writes ``{"headers": {...}, "body": "<raw body>"}``
atomically so a receiver can verify the signature on exactly the bytes that were signed.
Not implemented: TLS client rules (Intuit refuses self-signed endpoints; we use httpx's defaults).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from qb_pipeline.emulator.clock import envelope_time
from qb_pipeline.emulator.webhook_payloads import Payload

URL_TARGET = "url"
FILE_TARGET = "file"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
USER_AGENT = "qb-pipeline-emulator-webhooks/1"


@dataclass
class Delivery:
    """Mutable outbox record of one body sent to one target; guarded by the dispatcher's lock."""

    delivery_id: str
    seq: int
    target_kind: str  # URL_TARGET or FILE_TARGET
    target: str  # the URL, or the directory files are written to
    payload: Payload
    signature: str
    created_at: datetime
    status: str = PENDING
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    finished_at: datetime | None = None
    next_attempt_mono: float = 0.0  # time.monotonic() of the next attempt while pending
    file: str | None = None

    def headers(self) -> dict[str, str]:
        """The HTTP headers of every attempt (also stored in the file of a files target)."""
        return {
            "content-type": self.payload.content_type,
            "intuit-signature": self.signature,
            "intuit-t-id": self.delivery_id,
            "user-agent": USER_AGENT,
        }

    def to_dict(self, now: datetime, now_mono: float) -> dict[str, Any]:
        """The back door's view of this delivery."""
        next_attempt = None
        if self.status == PENDING:
            wait = max(0.0, self.next_attempt_mono - now_mono)
            next_attempt = envelope_time(now + timedelta(seconds=wait))
        return {
            "id": self.delivery_id,
            "url": self.target if self.target_kind == URL_TARGET else None,
            "files_dir": self.target if self.target_kind == FILE_TARGET else None,
            "file": self.file,
            "realm_ids": list(self.payload.realm_ids),
            "format": self.payload.payload_format,
            "content_type": self.payload.content_type,
            "body": self.payload.body.decode("utf-8"),
            "signature": self.signature,
            "attempts": self.attempts,
            "status": self.status,
            "last_error": self.last_error,
            "created_at": envelope_time(self.created_at),
            "last_attempt_at": _stamp(self.last_attempt_at),
            "finished_at": _stamp(self.finished_at),
            "next_attempt_at": next_attempt,
        }


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt came to: success, or the reason it failed; the file written if any."""

    ok: bool
    error: str | None = None
    file: str | None = None


def post(client: httpx.Client, delivery: Delivery, timeout: float) -> AttemptResult:
    """POST the signed body; a 2xx answer acknowledges it."""
    try:
        response = client.post(
            delivery.target,
            content=delivery.payload.body,
            headers=delivery.headers(),
            timeout=timeout,
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return AttemptResult(False, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return AttemptResult(True)
    return AttemptResult(False, f"HTTP {response.status_code}")


def write_file(delivery: Delivery, written_at: datetime) -> AttemptResult:
    """Write ``<epoch ms>-<seq>-<id>.json`` atomically (temp file, then rename)."""
    directory = Path(delivery.target)
    epoch_ms = int(written_at.timestamp() * 1000)
    name = f"{epoch_ms:013d}-{delivery.seq:08d}-{delivery.delivery_id}.json"
    document = {"headers": delivery.headers(), "body": delivery.payload.body.decode("utf-8")}
    temporary = directory / f".{name}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, directory / name)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return AttemptResult(False, f"{type(exc).__name__}: {exc}")
    return AttemptResult(True, file=str(directory / name))


def _stamp(moment: datetime | None) -> str | None:
    return envelope_time(moment) if moment is not None else None

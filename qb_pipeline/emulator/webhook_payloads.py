"""Webhook payloads as Intuit sends them: legacy ``eventNotifications`` and CloudEvents arrays.

Real (API_FACTS section 7): the legacy body, one realm per delivery, ``lastUpdated`` in company
time with a ``-0700`` style offset and ``deletedId`` on Merge; the CloudEvents array of at most
100 events mixing realms, ``type`` = ``qbo.<entity>.<verb>.v1``, ``time`` in UTC with ``Z``,
``data`` ``{}`` or ``{"deletedid": ...}`` on merge; the ``intuit-signature`` header,
base64(HMAC-SHA256(verifier token, raw body bytes)).
Faked: the CloudEvents ``source`` (a stable hash of the app id, shaped like Intuit's) and the
cap of 1,000 entities per legacy delivery (Intuit documents none).
Not implemented: payroll ``alternative_ids`` data and full-entity ``data`` payloads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qb_pipeline.emulator.clock import COMPANY_TZ

LEGACY = "legacy"
CLOUDEVENTS = "cloudevents"
PAYLOAD_FORMATS = frozenset({LEGACY, CLOUDEVENTS})
CONTENT_TYPES = {LEGACY: "application/json", CLOUDEVENTS: "application/cloudevents+json"}

CLOUDEVENTS_MAX_EVENTS = 100  # Intuit: up to 100 events (~1 MB) per delivery
LEGACY_MAX_ENTITIES = 1000  # emulator choice: keeps bulk writes from making huge bodies

OPERATION_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}
OPERATIONS = frozenset(OPERATION_VERBS)


@dataclass(frozen=True)
class WebhookEvent:
    """One change in one realm's books, as notified by the emulator."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str
    last_updated: datetime
    deleted_id: str | None = None


@dataclass(frozen=True)
class Payload:
    """One delivery's body before it is signed: its format, realms and encoded bytes."""

    payload_format: str
    realm_ids: tuple[str, ...]
    body: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.payload_format]


def sign(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` header value for ``body``."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def cloudevents_source(app_id: str) -> str:
    """A ``source`` stable per app, shaped like Intuit's (``intuit.<base64 of 32 bytes>``)."""
    digest = hashlib.sha256(f"qb-pipeline-emulator-app:{app_id}".encode()).digest()
    return "intuit." + base64.b64encode(digest).decode("ascii")


def legacy_time(moment: datetime) -> str:
    """Legacy ``lastUpdated``: company time, seconds, ``-0700`` offset (Intuit's sample)."""
    return _aware(moment).astimezone(COMPANY_TZ).strftime("%Y-%m-%dT%H:%M:%S%z")


def cloudevents_time(moment: datetime) -> str:
    """CloudEvents ``time``: UTC with milliseconds and ``Z``."""
    text = _aware(moment).astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def cloudevents_type(entity: str, operation: str) -> str:
    """``qbo.invoice.voided.v1`` and the like."""
    return f"qbo.{entity.lower()}.{OPERATION_VERBS[operation]}.v1"


def encode(document: Any) -> bytes:
    """Compact JSON bytes, the exact body that is signed and sent."""
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def build_payloads(events: list[WebhookEvent], payload_format: str, source: str) -> list[Payload]:
    """Group ``events`` (in notification order) into delivery bodies of the given format."""
    if payload_format == LEGACY:
        return list(_legacy_payloads(events))
    if payload_format == CLOUDEVENTS:
        return list(_cloudevents_payloads(events, source))
    raise ValueError(f"unknown webhook payload format {payload_format!r}")


def legacy_entity(event: WebhookEvent) -> dict[str, str]:
    """One entry of ``dataChangeEvent.entities``."""
    entry = {
        "name": event.entity,
        "id": event.entity_id,
        "operation": event.operation,
        "lastUpdated": legacy_time(event.last_updated),
    }
    if event.deleted_id is not None:
        entry["deletedId"] = event.deleted_id
    return entry


def cloudevent(event: WebhookEvent, source: str) -> dict[str, Any]:
    """One CloudEvents 1.0 event with a fresh UUID (retries resend the same body)."""
    data = {"deletedid": event.deleted_id} if event.deleted_id is not None else {}
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": cloudevents_type(event.entity, event.operation),
        "datacontenttype": "application/json",
        "time": cloudevents_time(event.last_updated),
        "intuitentityid": event.entity_id,
        "intuitaccountid": event.realm_id,
        "data": data,
    }


def _legacy_payloads(events: list[WebhookEvent]) -> Iterator[Payload]:
    by_realm: dict[str, list[WebhookEvent]] = {}
    for event in events:
        by_realm.setdefault(event.realm_id, []).append(event)
    for realm_id, realm_events in by_realm.items():
        for chunk in _chunks(realm_events, LEGACY_MAX_ENTITIES):
            entities = [legacy_entity(event) for event in chunk]
            document = {
                "eventNotifications": [
                    {"realmId": realm_id, "dataChangeEvent": {"entities": entities}}
                ]
            }
            yield Payload(LEGACY, (realm_id,), encode(document))


def _cloudevents_payloads(events: list[WebhookEvent], source: str) -> Iterator[Payload]:
    for chunk in _chunks(events, CLOUDEVENTS_MAX_EVENTS):
        realm_ids = tuple(dict.fromkeys(event.realm_id for event in chunk))
        document = [cloudevent(event, source) for event in chunk]
        yield Payload(CLOUDEVENTS, realm_ids, encode(document))


def _chunks(items: list[WebhookEvent], size: int) -> Iterable[list[WebhookEvent]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are company time, as everywhere in the emulator."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=COMPANY_TZ)

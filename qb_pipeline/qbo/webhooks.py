"""QBO webhook helpers: verify ``intuit-signature`` and parse deliveries into ``WebhookEvent``.

Pure functions, after stripe-python's ``_webhook.py``: no I/O, no state, one error type per
failure kind, each carrying a ``reason``.

    WebhookError                 reason
    ├── WebhookSignatureError    missing header, not base64, mismatch, no verifier token
    └── WebhookPayloadError      not JSON, unknown shape, a missing or malformed field

Both payload formats of API_FACTS section 7 are accepted, detected by shape: the legacy object
``{"eventNotifications": [...]}`` (one realm per notification, ``lastUpdated`` with a ``-0700``
or ``Z`` offset, ``deletedId`` on Merge) and the CloudEvents array (``type`` =
``qbo.<entity>.<verb>.v1``, ``intuitaccountid`` = realm, ``intuitentityid`` = id, ``data``
absent, ``{}`` or ``{"deletedid": ...}``). Legacy events have no id, so ``event_id`` is a UUID
derived from realm, entity, id, operation and the instant of ``lastUpdated``: a redelivered
notification gets the same id and de-duplicates.

Usage in a receiver (answer 200 quickly; Intuit retries anything else and a 400 for a parse
failure makes it resend the whole batch)::

    verify_signature(request_body, request.headers.get(SIGNATURE_HEADER), verifier_token)
    for event in parse_events(request_body): queue.put(event)

Not handled: CloudEvents ``data`` beyond ``deletedid`` (payroll ``alternative_ids``, any full
entity payload) is ignored; CloudEvents entity names this module does not know are kept in
Intuit's lower-case spelling rather than guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "intuit-signature"

OPERATIONS = ("Create", "Update", "Delete", "Merge", "Void", "Emailed")
VERB_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
_OPERATION_BY_LOWER = {operation.lower(): operation for operation in OPERATIONS}

# Webhook entities (API_FACTS 7.2, newer lists, and the emulator's catalogue), canonical spelling.
ENTITIES = (
    "Account", "Attachable", "Bill", "BillPayment", "Budget", "Class", "CompanyInfo",
    "CreditMemo", "Currency", "Customer", "Department", "Deposit", "Dimension", "Employee",
    "EmployeeCompensation", "Estimate", "ExchangeRate", "Invoice", "Item", "JournalCode",
    "JournalEntry", "Payment", "PaymentMethod", "PayrollEmployee", "Preferences", "Project",
    "Purchase", "PurchaseOrder", "RecurringTransaction", "RefundReceipt", "SalesReceipt",
    "TaxAgency", "TaxCode", "TaxRate", "Term", "TimeActivity", "Transfer", "Vendor",
    "VendorCredit",
)  # fmt: skip
_ENTITY_BY_LOWER = {entity.lower(): entity for entity in ENTITIES}

_CLOUDEVENTS_TYPE = re.compile(r"qbo\.([a-z0-9_]+)\.([a-z]+)\.v[0-9]+", re.ASCII | re.I)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEGACY_ID_NAMESPACE = uuid.UUID("8d1f6c1e-5a0b-4d39-9a57-2f0c8e6b7a41")  # fixed forever


class WebhookError(Exception):
    """A webhook delivery that must not be processed; ``reason`` says why (never a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookSignatureError(WebhookError):
    """The ``intuit-signature`` header is missing, unreadable or does not match the body."""


class WebhookPayloadError(WebhookError):
    """The body is not a webhook payload of either known format."""


@dataclass(frozen=True)
class WebhookEvent:
    """One change notified for one entity of one realm, whatever the payload format."""

    realm_id: str
    entity: str  # canonical QBO name: "Invoice", "SalesReceipt"
    entity_id: str
    operation: str  # one of OPERATIONS
    occurred_at: datetime  # aware; legacy lastUpdated / CloudEvents time
    event_id: str  # CloudEvents id; for legacy a stable UUID of the change
    deleted_id: str | None = None  # Merge: the id merged away


def verify_signature(raw_body: bytes, signature_header: str | None, verifier_token: str) -> None:
    """Raise ``WebhookSignatureError`` unless the header is base64(HMAC-SHA256(token, body)).

    ``raw_body`` must be the bytes as received: re-serialised JSON does not verify.
    """
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        raise TypeError("raw_body must be the bytes received; re-serialised JSON does not verify")
    if not verifier_token:
        raise WebhookSignatureError("no verifier token configured")
    if signature_header is None or not signature_header.strip():
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        received = base64.b64decode(signature_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} header is not base64") from None
    expected = hmac.new(verifier_token.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, received):
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} does not match the body")


def construct_events(
    raw_body: bytes, signature_header: str | None, verifier_token: str
) -> list[WebhookEvent]:
    """``verify_signature`` then ``parse_events``: the events of an authentic delivery."""
    verify_signature(raw_body, signature_header, verifier_token)
    return parse_events(raw_body)


def parse_events(raw_body: bytes) -> list[WebhookEvent]:
    """The events of a legacy or CloudEvents body, in payload order (duplicates kept).

    Raises ``WebhookPayloadError`` (and nothing else) for anything that is not such a payload.
    """
    document = _decode(raw_body)
    if isinstance(document, dict) and "eventNotifications" in document:
        return _legacy_events(document["eventNotifications"])
    if isinstance(document, list):
        return [_cloudevent(item, index) for index, item in enumerate(document)]
    raise WebhookPayloadError("neither a legacy eventNotifications object nor a CloudEvents array")


def legacy_event_id(
    realm_id: str, entity: str, entity_id: str, operation: str, occurred_at: datetime
) -> str:
    """The stable id of a legacy notification: the same change always gets the same id."""
    micros = (occurred_at - _EPOCH) // timedelta(microseconds=1)  # the instant, any offset
    name = "\x1f".join((realm_id, entity, entity_id, operation, str(micros)))
    return str(uuid.uuid5(_LEGACY_ID_NAMESPACE, name))


def _decode(raw_body: bytes) -> Any:
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        raise WebhookPayloadError("body must be the raw bytes received")
    try:
        return json.loads(bytes(raw_body))
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise WebhookPayloadError("body is not JSON") from None


def _legacy_events(notifications: Any) -> list[WebhookEvent]:
    if not isinstance(notifications, list):
        raise WebhookPayloadError("eventNotifications is not a list")
    events: list[WebhookEvent] = []
    for n, notification in enumerate(notifications):
        where = f"eventNotifications[{n}]"
        realm_id = _text(_mapping(notification, where), "realmId", where)
        change = _mapping(notification.get("dataChangeEvent"), f"{where}.dataChangeEvent")
        entities = change.get("entities")
        if not isinstance(entities, list):
            raise WebhookPayloadError(f"{where}.dataChangeEvent.entities is not a list")
        for e, entry in enumerate(entities):
            events.append(_legacy_entity(realm_id, entry, f"{where}.entities[{e}]"))
    return events


def _legacy_entity(realm_id: str, entry: Any, where: str) -> WebhookEvent:
    entry = _mapping(entry, where)
    entity = _canonical_entity(_text(entry, "name", where))
    entity_id = _text(entry, "id", where)
    operation = _operation(_text(entry, "operation", where), where)
    occurred_at = _timestamp(_text(entry, "lastUpdated", where), f"{where}.lastUpdated")
    deleted_id = _optional_text(entry, "deletedId", where)
    event_id = legacy_event_id(realm_id, entity, entity_id, operation, occurred_at)
    return WebhookEvent(realm_id, entity, entity_id, operation, occurred_at, event_id, deleted_id)


def _cloudevent(item: Any, index: int) -> WebhookEvent:
    where = f"event[{index}]"
    item = _mapping(item, where)
    _text(item, "specversion", where)
    event_type = _text(item, "type", where)
    match = _CLOUDEVENTS_TYPE.fullmatch(event_type)
    if match is None or match.group(2).lower() not in VERB_OPERATIONS:
        raise WebhookPayloadError(f"{where}.type is not qbo.<entity>.<verb>.v<n>")
    data = item.get("data")
    if data is not None and not isinstance(data, dict):
        raise WebhookPayloadError(f"{where}.data is not an object")
    data = data or {}
    deleted_id = _optional_text(data, "deletedid", f"{where}.data")
    if deleted_id is None:
        deleted_id = _optional_text(data, "deletedId", f"{where}.data")
    return WebhookEvent(
        realm_id=_text(item, "intuitaccountid", where),
        entity=_canonical_entity(match.group(1)),
        entity_id=_text(item, "intuitentityid", where),
        operation=VERB_OPERATIONS[match.group(2).lower()],
        occurred_at=_timestamp(_text(item, "time", where), f"{where}.time"),
        event_id=_text(item, "id", where),
        deleted_id=deleted_id,
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookPayloadError(f"{where} is not an object")
    return value


def _text(container: dict[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WebhookPayloadError(f"{where}.{key} is missing or not a non-empty string")
    return value


def _optional_text(container: dict[str, Any], key: str, where: str) -> str | None:
    if container.get(key) is None:
        return None
    return _text(container, key, where)


def _operation(text: str, where: str) -> str:
    operation = _OPERATION_BY_LOWER.get(text.lower())
    if operation is None:
        raise WebhookPayloadError(f"{where}.operation is not one of {', '.join(OPERATIONS)}")
    return operation


def _canonical_entity(name: str) -> str:
    canonical = _ENTITY_BY_LOWER.get(name.lower())
    if canonical is None:
        logger.debug("webhook entity %r is not in the known list; kept as sent", name[:64])
        return name
    return canonical


def _timestamp(text: str, where: str) -> datetime:
    """An aware datetime from ISO-8601 with ``Z``, ``+00:00`` or ``-0700`` (ns are truncated)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError):
        raise WebhookPayloadError(f"{where} is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise WebhookPayloadError(f"{where} has no UTC offset")
    return moment

"""Webhook helpers: signature verification and parsing of both Intuit payload formats.

Real: the Intuit documentation samples of API_FACTS 7.2 (legacy) and 7.3 (CloudEvents), parsed
field by field; the emulator's own payload builders and signer (``build_payloads`` + ``sign``)
for the round trip, so the receiver and the sender agree byte for byte. Faked: nothing; no
server is needed, these are pure functions. Hypothesis throws random bytes, random JSON and
mutated valid payloads at the parser: only ``WebhookPayloadError`` may come out.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qb_pipeline.emulator import webhook_payloads as sender
from qb_pipeline.emulator.entities import ENTITY_TYPES
from qb_pipeline.qbo.webhooks import (
    ENTITIES,
    OPERATIONS,
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    construct_events,
    legacy_event_id,
    parse_events,
    verify_signature,
)

VERIFIER = "verifier-token-a1b2c3d4e5"
PDT = timezone(timedelta(hours=-7))

LEGACY_DOC_SAMPLE = b"""{"eventNotifications":[{"realmId":"1185883450",
  "dataChangeEvent":{"entities":[
   {"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"},
   {"name":"Vendor","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}"""

CLOUDEVENTS_DOC_SAMPLE = b"""[{"specversion":"1.0","id":"88cd52aa-33b6-4351-9aa4-47572edbd068",
  "source":"intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
  "type":"qbo.account.created.v1","datacontenttype":"application/json",
  "time":"2025-09-10T21:31:25.179851517Z",
  "intuitentityid":"1234","intuitaccountid":"310687","data":{}}]"""


def _signature(body: bytes, token: str = VERIFIER) -> str:
    """Computed here independently of both sender and receiver."""
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def _cloudevent(**changes: Any) -> dict[str, Any]:
    event = json.loads(CLOUDEVENTS_DOC_SAMPLE)[0]
    event.update(changes)
    return {key: value for key, value in event.items() if value is not None}


def _legacy_with(entity: dict[str, Any], realm_id: str = "1") -> bytes:
    base = {
        "name": "Invoice",
        "id": "1",
        "operation": "Create",
        "lastUpdated": "2015-10-05T14:42:19-0700",
    }
    base.update(entity)
    base = {key: value for key, value in base.items() if value is not None}
    notification = {"realmId": realm_id, "dataChangeEvent": {"entities": [base]}}
    return json.dumps({"eventNotifications": [notification]}).encode()


def _parse_one(document: Any) -> WebhookEvent:
    events = parse_events(json.dumps(document).encode())
    assert len(events) == 1
    return events[0]


# --- Intuit documentation samples ------------------------------------------------------------


def test_legacy_doc_sample_parses_exactly() -> None:
    customer, vendor = parse_events(LEGACY_DOC_SAMPLE)

    assert (customer.realm_id, customer.entity, customer.entity_id) == (
        "1185883450",
        "Customer",
        "1",
    )
    assert (vendor.realm_id, vendor.entity, vendor.entity_id) == ("1185883450", "Vendor", "1")
    assert customer.operation == vendor.operation == "Create"
    assert customer.occurred_at == datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)
    assert customer.occurred_at.utcoffset() == timedelta(hours=-7)
    assert customer.deleted_id is None and vendor.deleted_id is None
    assert customer.event_id != vendor.event_id
    assert customer.event_id == legacy_event_id(
        "1185883450", "Customer", "1", "Create", datetime(2015, 10, 5, 14, 42, 19, tzinfo=PDT)
    )


def test_legacy_2025_sample_with_z_and_milliseconds() -> None:
    body = _legacy_with(
        {"id": "130", "operation": "Update", "lastUpdated": "2025-09-08T20:52:31.657Z"}
    )

    (event,) = parse_events(body)

    assert event.occurred_at == datetime(2025, 9, 8, 20, 52, 31, 657000, tzinfo=UTC)
    assert (event.entity, event.entity_id, event.operation) == ("Invoice", "130", "Update")


def test_cloudevents_doc_sample_parses_exactly() -> None:
    (event,) = parse_events(CLOUDEVENTS_DOC_SAMPLE)

    assert event == WebhookEvent(
        realm_id="310687",
        entity="Account",
        entity_id="1234",
        operation="Create",
        occurred_at=datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=UTC),
        event_id="88cd52aa-33b6-4351-9aa4-47572edbd068",
        deleted_id=None,
    )


@pytest.mark.parametrize(
    ("event_type", "entity", "operation"),
    [
        ("qbo.invoice.created.v1", "Invoice", "Create"),
        ("qbo.salesreceipt.updated.v1", "SalesReceipt", "Update"),
        ("qbo.payment.deleted.v1", "Payment", "Delete"),
        ("qbo.customer.merged.v1", "Customer", "Merge"),
        ("qbo.invoice.voided.v1", "Invoice", "Void"),
        ("qbo.refundreceipt.emailed.v1", "RefundReceipt", "Emailed"),
        ("qbo.creditmemo.emailed.v1", "CreditMemo", "Emailed"),
        ("qbo.journalentry.created.v2", "JournalEntry", "Create"),
    ],
)
def test_cloudevents_type_gives_canonical_entity_and_operation(
    event_type: str, entity: str, operation: str
) -> None:
    event = _parse_one([_cloudevent(type=event_type)])

    assert (event.entity, event.operation) == (entity, operation)


def test_cloudevents_data_variants_from_the_docs() -> None:
    no_data = _cloudevent(type="qbo.salesreceipt.updated.v1", datacontenttype=None, data=None)
    merged = _cloudevent(
        type="qbo.customer.merged.v1", intuitentityid="12", data={"deletedid": "27"}
    )
    payroll = _cloudevent(
        id="*-*********-***************-PayrollEmployee-000000011",
        type="qbo.payrollemployee.updated.v1",
        data={"alternative_ids": [{"id": "x:400000011", "namespace": "Intuit.*****.**"}]},
    )

    first, second, third = parse_events(json.dumps([no_data, merged, payroll]).encode())

    assert (first.entity, first.operation, first.deleted_id) == ("SalesReceipt", "Update", None)
    assert (second.entity_id, second.operation, second.deleted_id) == ("12", "Merge", "27")
    assert third.event_id == "*-*********-***************-PayrollEmployee-000000011"
    assert third.entity == "PayrollEmployee"


def test_cloudevents_mixing_realms_keeps_order() -> None:
    events = [
        _cloudevent(id=f"id-{n}", intuitaccountid=realm, intuitentityid=str(n))
        for n, realm in enumerate(["1", "2", "1"])
    ]

    parsed = parse_events(json.dumps(events).encode())

    assert [(e.realm_id, e.entity_id, e.event_id) for e in parsed] == [
        ("1", "0", "id-0"),
        ("2", "1", "id-1"),
        ("1", "2", "id-2"),
    ]


def test_unknown_cloudevents_entity_is_kept_as_sent() -> None:
    assert _parse_one([_cloudevent(type="qbo.widgetthing.created.v1")]).entity == "widgetthing"


def test_empty_deliveries_have_no_events() -> None:
    assert parse_events(b"[]") == []
    assert parse_events(b'{"eventNotifications":[]}') == []


def test_legacy_merge_carries_deleted_id() -> None:
    body = _legacy_with(
        {"name": "Vendor", "id": "3", "operation": "Merge", "deletedId": "9"}, realm_id="5"
    )

    (event,) = parse_events(body)

    assert (event.operation, event.entity_id, event.deleted_id) == ("Merge", "3", "9")


# --- legacy event ids ------------------------------------------------------------------------


def test_legacy_event_id_is_stable_and_distinguishes_changes() -> None:
    moment = datetime(2015, 10, 5, 14, 42, 19, tzinfo=PDT)
    same_instant_utc = moment.astimezone(UTC)
    base = legacy_event_id("1", "Invoice", "7", "Update", moment)

    assert parse_events(LEGACY_DOC_SAMPLE) == parse_events(LEGACY_DOC_SAMPLE)
    assert base == legacy_event_id("1", "Invoice", "7", "Update", same_instant_utc)
    variants = {
        legacy_event_id("2", "Invoice", "7", "Update", moment),
        legacy_event_id("1", "Bill", "7", "Update", moment),
        legacy_event_id("1", "Invoice", "8", "Update", moment),
        legacy_event_id("1", "Invoice", "7", "Void", moment),
        legacy_event_id("1", "Invoice", "7", "Update", moment + timedelta(seconds=1)),
    }
    assert base not in variants and len(variants) == 5


# --- round trip with the emulator's sender ---------------------------------------------------


def _sender_events() -> list[sender.WebhookEvent]:
    moment = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)
    events = []
    for n, entity in enumerate(sorted(ENTITY_TYPES)):
        operation = sorted(sender.OPERATIONS)[n % len(sender.OPERATIONS)]
        deleted_id = str(n + 1000) if operation == "Merge" else None
        realm_id = "4620816365" if n % 2 else "9130350000"
        at = moment + timedelta(minutes=n)
        events.append(sender.WebhookEvent(realm_id, entity, str(n), operation, at, deleted_id))
    return events


def _as_received(event: sender.WebhookEvent) -> tuple[Any, ...]:
    return (
        event.realm_id,
        event.entity,
        event.entity_id,
        event.operation,
        event.last_updated,
        event.deleted_id,
    )


def _as_parsed(event: WebhookEvent) -> tuple[Any, ...]:
    return (
        event.realm_id,
        event.entity,
        event.entity_id,
        event.operation,
        event.occurred_at,
        event.deleted_id,
    )


@pytest.mark.parametrize("payload_format", [sender.LEGACY, sender.CLOUDEVENTS])
def test_round_trip_with_emulator_payloads(payload_format: str) -> None:
    sent = _sender_events()
    payloads = sender.build_payloads(sent, payload_format, sender.cloudevents_source("app"))

    received: list[WebhookEvent] = []
    for payload in payloads:
        received += construct_events(payload.body, sender.sign(payload.body, VERIFIER), VERIFIER)

    assert len(payloads) == (2 if payload_format == sender.LEGACY else 1)  # legacy: one per realm
    assert sorted(map(_as_parsed, received), key=repr) == sorted(map(_as_received, sent), key=repr)
    assert len({event.event_id for event in received}) == len(sent)
    assert {event.entity for event in received} <= set(ENTITIES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(
        st.builds(
            sender.WebhookEvent,
            realm_id=st.from_regex(r"[0-9]{1,19}", fullmatch=True),
            entity=st.sampled_from(sorted(ENTITY_TYPES)),
            entity_id=st.from_regex(r"[0-9]{1,9}", fullmatch=True),
            operation=st.sampled_from(sorted(sender.OPERATIONS)),
            last_updated=st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2099, 12, 31),
                timezones=st.just(UTC),
            ).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)),
            deleted_id=st.none() | st.from_regex(r"[0-9]{1,9}", fullmatch=True),
        ),
        max_size=12,
    ),
    payload_format=st.sampled_from([sender.LEGACY, sender.CLOUDEVENTS]),
)
def test_round_trip_property(events: list[sender.WebhookEvent], payload_format: str) -> None:
    received: list[WebhookEvent] = []
    for payload in sender.build_payloads(events, payload_format, "intuit.source"):
        received += construct_events(payload.body, sender.sign(payload.body, VERIFIER), VERIFIER)

    def expected(event: sender.WebhookEvent) -> tuple[Any, ...]:
        at = event.last_updated
        if payload_format == sender.LEGACY:  # legacy lastUpdated has whole seconds
            at = at.replace(microsecond=0)
        return dataclasses.replace(event, last_updated=at)

    assert sorted(map(_as_parsed, received), key=repr) == sorted(
        (_as_received(expected(e)) for e in events), key=repr
    )


# --- signatures ------------------------------------------------------------------------------


def test_valid_signature_passes_and_matches_the_emulator_signer() -> None:
    assert sender.sign(LEGACY_DOC_SAMPLE, VERIFIER) == _signature(LEGACY_DOC_SAMPLE)
    verify_signature(LEGACY_DOC_SAMPLE, _signature(LEGACY_DOC_SAMPLE), VERIFIER)
    verify_signature(LEGACY_DOC_SAMPLE, f"  {_signature(LEGACY_DOC_SAMPLE)}\n", VERIFIER)
    verify_signature(bytearray(LEGACY_DOC_SAMPLE), _signature(LEGACY_DOC_SAMPLE), VERIFIER)


@pytest.mark.parametrize(
    ("body", "header", "token", "reason"),
    [
        (LEGACY_DOC_SAMPLE, None, VERIFIER, "missing"),
        (LEGACY_DOC_SAMPLE, "", VERIFIER, "missing"),
        (LEGACY_DOC_SAMPLE, "   ", VERIFIER, "missing"),
        (LEGACY_DOC_SAMPLE, "not base64!", VERIFIER, "not base64"),
        (LEGACY_DOC_SAMPLE, "abc", VERIFIER, "not base64"),
        (
            LEGACY_DOC_SAMPLE,
            _signature(LEGACY_DOC_SAMPLE, "other-token"),
            VERIFIER,
            "does not match",
        ),
        (LEGACY_DOC_SAMPLE + b" ", _signature(LEGACY_DOC_SAMPLE), VERIFIER, "does not match"),
        (
            json.dumps(json.loads(LEGACY_DOC_SAMPLE)).encode(),  # re-serialised: not the raw body
            _signature(LEGACY_DOC_SAMPLE),
            VERIFIER,
            "does not match",
        ),
        (LEGACY_DOC_SAMPLE, base64.b64encode(b"short").decode(), VERIFIER, "does not match"),
        (LEGACY_DOC_SAMPLE, _signature(LEGACY_DOC_SAMPLE, ""), "", "no verifier token"),
    ],
)
def test_signature_failures_raise_one_error_with_a_reason(
    body: bytes, header: str | None, token: str, reason: str
) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(body, header, token)

    assert reason in caught.value.reason
    text = f"{caught.value} {caught.value!r}"
    assert VERIFIER not in text
    assert (header or "").strip() not in text or not (header or "").strip()


def test_construct_events_checks_the_signature_before_parsing() -> None:
    with pytest.raises(WebhookSignatureError):
        construct_events(b"not json at all", _signature(b"other"), VERIFIER)
    with pytest.raises(WebhookPayloadError):
        construct_events(b"not json at all", _signature(b"not json at all"), VERIFIER)


def test_signature_of_a_str_body_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        verify_signature(LEGACY_DOC_SAMPLE.decode(), _signature(LEGACY_DOC_SAMPLE), VERIFIER)  # type: ignore[arg-type]


def test_signature_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    verify_signature(LEGACY_DOC_SAMPLE, _signature(LEGACY_DOC_SAMPLE), VERIFIER)
    with pytest.raises(WebhookSignatureError):
        verify_signature(LEGACY_DOC_SAMPLE, _signature(b"x"), VERIFIER)

    assert len(calls) == 2
    assert all(len(a) == len(b) == 32 for a, b in calls)
    # the verdict is compare_digest's: forcing it False rejects a correct signature
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(LEGACY_DOC_SAMPLE, _signature(LEGACY_DOC_SAMPLE), VERIFIER)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=256), header=st.none() | st.text(max_size=64))
def test_random_signatures_only_raise_signature_errors(body: bytes, header: str | None) -> None:
    try:
        verify_signature(body, header, VERIFIER)
    except WebhookSignatureError:
        return
    assert header is not None and base64.b64decode(header.strip()) == base64.b64decode(
        _signature(body)
    )


# --- malformed payloads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"null",
        b"{}",
        b'"eventNotifications"',
        b"42",
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b"{" * 50_000,
        b"[" + b"9" * 5000 + b"]",
        b'{"eventNotifications": {}}',
        b'{"eventNotifications": [1]}',
        b'{"eventNotifications": [{"realmId": "1"}]}',
        b'{"eventNotifications": [{"realmId": 1, "dataChangeEvent": {"entities": []}}]}',
        b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": {}}}]}',
        _legacy_with({"name": None}),
        _legacy_with({"id": ""}),
        _legacy_with({"id": 7}),
        _legacy_with({"operation": "Archive"}),
        _legacy_with({"lastUpdated": "2015-10-05T14:42:19"}),  # no offset
        _legacy_with({"lastUpdated": "yesterday"}),
        _legacy_with({"deletedId": 9}),
        b"[1]",
        b"[[]]",
        json.dumps([_cloudevent(specversion=None)]).encode(),
        json.dumps([_cloudevent(id=None)]).encode(),
        json.dumps([_cloudevent(type="qbo.invoice.created")]).encode(),
        json.dumps([_cloudevent(type="com.example.invoice.created.v1")]).encode(),
        json.dumps([_cloudevent(type="qbo.invoice.archived.v1")]).encode(),
        json.dumps([_cloudevent(type="qbo..created.v1")]).encode(),
        json.dumps([_cloudevent(time=None)]).encode(),
        json.dumps([_cloudevent(time="2025-09-10T21:31:25")]).encode(),
        json.dumps([_cloudevent(intuitaccountid=None)]).encode(),
        json.dumps([_cloudevent(intuitentityid=1234)]).encode(),
        json.dumps([_cloudevent(data=[])]).encode(),
        json.dumps([_cloudevent(data={"deletedid": 27})]).encode(),
        json.dumps([_cloudevent(), 5]).encode(),
    ],
)
def test_malformed_payloads_raise_payload_error(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        parse_events(body)

    assert caught.value.reason


def test_payload_error_names_the_bad_field() -> None:
    with pytest.raises(WebhookPayloadError, match=r"event\[1\]\.intuitentityid"):
        parse_events(json.dumps([_cloudevent(), _cloudevent(intuitentityid=None)]).encode())


def test_str_body_is_rejected_as_payload_error() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_events(LEGACY_DOC_SAMPLE.decode())  # type: ignore[arg-type]


def test_webhook_event_is_frozen() -> None:
    (event,) = parse_events(CLOUDEVENTS_DOC_SAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.entity = "Bill"  # type: ignore[misc]
    assert set(OPERATIONS) == {"Create", "Update", "Delete", "Merge", "Void", "Emailed"}


# --- properties: nothing but WebhookPayloadError ---------------------------------------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _parse_or_payload_error(body: bytes) -> None:
    try:
        events = parse_events(body)
    except WebhookPayloadError as error:
        assert isinstance(error.reason, str) and error.reason
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, WebhookEvent)
        assert event.occurred_at.utcoffset() is not None
        assert event.operation in OPERATIONS


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=512))
def test_random_bytes_only_raise_payload_errors(body: bytes) -> None:
    _parse_or_payload_error(body)


@settings(max_examples=300, deadline=None)
@given(document=_json_values)
def test_random_json_only_raises_payload_errors(document: Any) -> None:
    _parse_or_payload_error(json.dumps(document).encode())


_LEGACY_KEYS = ["realmId", "dataChangeEvent", "name", "id", "operation", "lastUpdated", "deletedId"]
_CE_KEYS = ["specversion", "id", "type", "time", "intuitentityid", "intuitaccountid", "data"]


@settings(max_examples=300, deadline=None)
@given(
    legacy=st.booleans(),
    key_index=st.integers(min_value=0, max_value=6),
    value=_json_values | st.text(alphabet="0123456789-:TZ.+qbo.invoice.v1", max_size=30),
)
def test_mutated_valid_payloads_only_raise_payload_errors(
    legacy: bool, key_index: int, value: Any
) -> None:
    if legacy:
        document = json.loads(LEGACY_DOC_SAMPLE)
        key = _LEGACY_KEYS[key_index]
        notification = document["eventNotifications"][0]
        target = (
            notification
            if key in ("realmId", "dataChangeEvent")
            else (notification["dataChangeEvent"]["entities"][0])
        )
    else:
        document = json.loads(CLOUDEVENTS_DOC_SAMPLE)
        key, target = _CE_KEYS[key_index], document[0]
    target[key] = value

    _parse_or_payload_error(json.dumps(document).encode())


def test_client_side_module_does_not_import_the_emulator() -> None:
    code = (
        "import sys, qb_pipeline.qbo.webhooks as w; "
        "sys.exit(any(m.startswith('qb_pipeline.emulator') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_signature_header_name() -> None:
    assert SIGNATURE_HEADER == "intuit-signature"

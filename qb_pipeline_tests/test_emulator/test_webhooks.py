"""The emulator's outbound webhooks, delivered over real HTTP to a receiver on a loopback port.

Real: HTTP POSTs from the dispatcher's httpx client to a ThreadingHTTPServer; HMAC checks use
the standard library exactly as a receiver (and python-quickbooks) does. Faked: the retry
schedule is scaled down to tens of milliseconds. Not covered: TLS endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.config import WebhookConfig
from qb_pipeline.emulator.webhook_payloads import cloudevents_time, legacy_time
from qb_pipeline.emulator.webhooks import WebhookDispatcher

VERIFIER = "test-verifier-token"
TINY_SCHEDULE = (0.02, 0.02, 0.02)
# Intuit's doc sample moment: 2015-10-05T14:42:19-0700
SAMPLE_MOMENT = datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)


class Receiver:
    """Records every POST; answers ``fail_status`` to the first ``fail_first`` of them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = 0
        self.fail_status = 503
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
        self.server.receiver = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def record(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append({"headers": headers, "body": body})
            return self.fail_status if len(self.requests) <= self.fail_first else 200

    def realms_seen(self) -> list[str]:
        """Realm of each legacy request received, in arrival order."""
        return [
            json.loads(request["body"])["eventNotifications"][0]["realmId"]
            for request in self.requests
        ]


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = self.server.receiver.record(headers, body)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(
        target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def make_dispatcher() -> Iterator[Callable[..., WebhookDispatcher]]:
    """Build dispatchers (connected: every realm unless told) and stop them all afterwards."""
    made: list[WebhookDispatcher] = []

    def make(
        is_connected: Callable[[str], bool] = lambda realm_id: True, **settings: Any
    ) -> WebhookDispatcher:
        settings.setdefault("verifier_token", VERIFIER)
        settings.setdefault("retry_schedule_seconds", TINY_SCHEDULE)
        settings.setdefault("group_window_seconds", 3600.0)
        dispatcher = WebhookDispatcher(WebhookConfig(**settings), Clock(), is_connected)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.stop(timeout=1.0)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def expected_signature(body: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def assert_signed(headers: dict[str, str], body: bytes, token: str = VERIFIER) -> None:
    """Verify as a receiver does: HMAC over the raw bytes, compared in constant time."""
    digest = hmac.new(token.encode(), body, hashlib.sha256).digest()
    assert hmac.compare_digest(digest, base64.b64decode(headers["intuit-signature"]))


def test_legacy_body_and_headers_match_intuits_sample(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url])
    dispatcher.notify("1185883450", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("1185883450", "Vendor", "1", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is True

    [request] = receiver.requests
    assert request["body"] == (
        b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":['
        b'{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"},'
        b'{"name":"Vendor","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}'
        b"]}}]}"
    )
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["intuit-signature"] == expected_signature(request["body"])
    assert_signed(request["headers"], request["body"])
    [delivery] = dispatcher.outbox()
    assert request["headers"]["intuit-t-id"] == delivery["id"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 1
    assert delivery["realm_ids"] == ["1185883450"]
    assert delivery["body"] == request["body"].decode()


def test_legacy_merge_carries_deleted_id(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url])
    dispatcher.notify("9", "Customer", "12", "Merge", SAMPLE_MOMENT, deleted_id="27")
    dispatcher.flush(timeout=5)

    [entity] = json.loads(receiver.requests[0]["body"])["eventNotifications"][0]["dataChangeEvent"][
        "entities"
    ]
    assert entity == {
        "name": "Customer",
        "id": "12",
        "operation": "Merge",
        "lastUpdated": "2015-10-05T14:42:19-0700",
        "deletedId": "27",
    }


def test_cloudevents_body_and_headers(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url], payload_format="cloudevents")
    moment = datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=UTC)
    operations = ["Create", "Update", "Delete", "Void", "Emailed"]
    for number, operation in enumerate(operations, start=1):
        dispatcher.notify("310687", "Invoice", str(number), operation, moment)
    dispatcher.notify("310688", "Customer", "5", "Merge", moment, deleted_id="27")

    assert dispatcher.flush(timeout=5) is True

    [request] = receiver.requests
    assert request["headers"]["content-type"] == "application/cloudevents+json"
    assert_signed(request["headers"], request["body"])
    events = json.loads(request["body"])
    source = events[0]["source"]
    assert source.startswith("intuit.")
    assert len({event["id"] for event in events}) == 6
    for event in events:
        assert uuid.UUID(event["id"]).version == 4
    stripped = [{k: v for k, v in event.items() if k != "id"} for event in events]
    verbs = ["created", "updated", "deleted", "voided", "emailed"]
    expected = [
        {
            "specversion": "1.0",
            "source": source,
            "type": f"qbo.invoice.{verb}.v1",
            "datacontenttype": "application/json",
            "time": "2025-09-10T21:31:25.179Z",
            "intuitentityid": str(number),
            "intuitaccountid": "310687",
            "data": {},
        }
        for number, verb in enumerate(verbs, start=1)
    ]
    expected.append(
        {
            **expected[0],
            "type": "qbo.customer.merged.v1",
            "intuitentityid": "5",
            "intuitaccountid": "310688",
            "data": {"deletedid": "27"},
        }
    )
    assert stripped == expected
    [delivery] = dispatcher.outbox()
    assert delivery["realm_ids"] == ["310687", "310688"]
    assert delivery["format"] == "cloudevents"


def test_cloudevents_source_is_stable_per_app(make_dispatcher, receiver) -> None:
    sources = []
    for _ in range(2):
        dispatcher = make_dispatcher(urls=[receiver.url], payload_format="cloudevents")
        dispatcher.notify("1", "Item", "1", "Create", SAMPLE_MOMENT)
        dispatcher.flush(timeout=5)
        sources.append(json.loads(receiver.requests[-1]["body"])[0]["source"])
    assert sources[0] == sources[1]


def test_cloudevents_split_into_arrays_of_at_most_100(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url], payload_format="cloudevents")
    for number in range(150):
        dispatcher.notify(str(number % 3), "Bill", str(number), "Update", SAMPLE_MOMENT)
    dispatcher.flush(timeout=5)

    sizes = [len(json.loads(request["body"])) for request in receiver.requests]
    assert sizes == [100, 50]


def test_background_thread_groups_legacy_by_realm(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url], group_window_seconds=0.05)
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("2", "Invoice", "7", "Update", SAMPLE_MOMENT)
    dispatcher.notify("1", "Customer", "1", "Update", SAMPLE_MOMENT)
    dispatcher.start()

    wait_for(lambda: [d["status"] for d in dispatcher.outbox()] == ["delivered"] * 2)

    bodies = {
        notification["realmId"]: notification["dataChangeEvent"]["entities"]
        for request in receiver.requests
        for notification in json.loads(request["body"])["eventNotifications"]
    }
    assert len(receiver.requests) == 2
    assert [(e["name"], e["id"], e["operation"]) for e in bodies["1"]] == [
        ("Customer", "1", "Create"),
        ("Customer", "1", "Update"),
    ]
    assert [(e["name"], e["id"], e["operation"]) for e in bodies["2"]] == [
        ("Invoice", "7", "Update")
    ]


def test_background_thread_groups_cloudevents_across_realms(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(
        urls=[receiver.url], payload_format="cloudevents", group_window_seconds=0.05
    )
    for realm_id in ("1", "2", "1"):
        dispatcher.notify(realm_id, "Payment", "3", "Update", SAMPLE_MOMENT)
    dispatcher.start()

    wait_for(lambda: [d["status"] for d in dispatcher.outbox()] == ["delivered"])

    events = json.loads(receiver.requests[0]["body"])
    assert [event["intuitaccountid"] for event in events] == ["1", "2", "1"]


def test_failed_delivery_is_retried_with_the_same_body(make_dispatcher, receiver) -> None:
    receiver.fail_first = 2
    dispatcher = make_dispatcher(urls=[receiver.url], group_window_seconds=0.01)
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.start()

    wait_for(lambda: [d["status"] for d in dispatcher.outbox()] == ["delivered"])

    [delivery] = dispatcher.outbox()
    assert delivery["attempts"] == 3
    assert delivery["last_error"] == "HTTP 503"
    assert len(receiver.requests) == 3
    assert len({request["body"] for request in receiver.requests}) == 1
    assert len({request["headers"]["intuit-t-id"] for request in receiver.requests}) == 1


def test_later_deliveries_wait_behind_a_failing_one(make_dispatcher, receiver) -> None:
    receiver.fail_first = 2
    dispatcher = make_dispatcher(urls=[receiver.url], group_window_seconds=0.01)
    dispatcher.notify("A", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("B", "Customer", "2", "Create", SAMPLE_MOMENT)
    dispatcher.start()

    wait_for(lambda: [d["status"] for d in dispatcher.outbox()] == ["delivered"] * 2)

    assert receiver.realms_seen() == ["A", "A", "A", "B"]


def test_flush_attempts_once_and_keeps_order(make_dispatcher, receiver) -> None:
    receiver.fail_first = 1
    dispatcher = make_dispatcher(urls=[receiver.url], retry_schedule_seconds=(3600.0,))
    dispatcher.notify("A", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("B", "Customer", "2", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is False
    assert receiver.realms_seen() == ["A"]
    assert [d["status"] for d in dispatcher.outbox()] == ["pending", "pending"]
    assert dispatcher.outbox("A")[0]["next_attempt_at"] is not None

    assert dispatcher.flush(timeout=5) is True
    assert receiver.realms_seen() == ["A", "A", "B"]


def test_exhausted_retries_mark_failed_and_release_the_queue(make_dispatcher, receiver) -> None:
    receiver.fail_first, receiver.fail_status = 3, 500
    dispatcher = make_dispatcher(urls=[receiver.url], retry_schedule_seconds=(0.01, 0.01))
    dispatcher.notify("A", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("B", "Customer", "2", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is False
    assert dispatcher.flush(timeout=5) is False
    assert dispatcher.flush(timeout=5) is True

    failed, delivered = dispatcher.outbox()
    assert (failed["realm_ids"], failed["status"], failed["attempts"]) == (["A"], "failed", 3)
    assert failed["last_error"] == "HTTP 500"
    assert failed["finished_at"] is not None and failed["next_attempt_at"] is None
    assert (delivered["realm_ids"], delivered["status"]) == (["B"], "delivered")
    assert receiver.realms_seen() == ["A", "A", "A", "B"]


def test_connection_error_is_a_failure(make_dispatcher, receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()
    dispatcher = make_dispatcher(urls=[receiver.url], retry_schedule_seconds=())
    dispatcher.notify("A", "Customer", "1", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is True

    [delivery] = dispatcher.outbox()
    assert delivery["status"] == "failed"
    assert delivery["last_error"].startswith("ConnectError")


def test_files_mode_writes_verifiable_files(make_dispatcher, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    dispatcher = make_dispatcher(files_dir=inbox)
    assert dispatcher.enabled is True
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("2", "Vendor", "4", "Delete", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is True

    files = sorted(inbox.iterdir())
    assert [path.suffix for path in files] == [".json", ".json"]
    realms = []
    for path in files:
        document = json.loads(path.read_text())
        body = document["body"].encode()
        assert_signed(document["headers"], body)
        assert document["headers"]["content-type"] == "application/json"
        realms.append(json.loads(body)["eventNotifications"][0]["realmId"])
    assert realms == ["1", "2"]
    assert [d["file"] for d in dispatcher.outbox()] == [str(path) for path in files]


def test_disconnected_realms_generate_nothing(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(lambda realm_id: realm_id == "1", urls=[receiver.url])
    dispatcher.notify("2", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.notify("1", "Customer", "9", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=5) is True

    assert receiver.realms_seen() == ["1"]
    assert dispatcher.outbox("2") == []
    assert len(dispatcher.outbox("1")) == 1


def test_disabled_dispatcher_ignores_notifications(make_dispatcher) -> None:
    calls: list[str] = []
    dispatcher = make_dispatcher(lambda realm_id: calls.append(realm_id) or True)
    assert dispatcher.enabled is False

    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)

    assert dispatcher.flush(timeout=1) is True
    assert dispatcher.outbox() == []
    assert calls == []


def test_unknown_operation_is_rejected(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url])
    with pytest.raises(ValueError, match="Archive"):
        dispatcher.notify("1", "Customer", "1", "Archive", SAMPLE_MOMENT)


def test_configure_switches_format_and_verifier(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher()
    config = dispatcher.configure(
        urls=[receiver.url], payload_format="cloudevents", verifier_token="rotated"
    )
    assert (config.urls, config.payload_format) == ([receiver.url], "cloudevents")
    assert dispatcher.enabled is True
    dispatcher.notify("1", "Estimate", "3", "Emailed", SAMPLE_MOMENT)
    dispatcher.flush(timeout=5)

    [request] = receiver.requests
    assert_signed(request["headers"], request["body"], token="rotated")
    assert json.loads(request["body"])[0]["type"] == "qbo.estimate.emailed.v1"
    with pytest.raises(ValueError, match="payload_format"):
        dispatcher.configure(payload_format="xml")
    with pytest.raises(ValueError, match="colour"):
        dispatcher.configure(colour="blue")


def test_invalid_initial_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="payload_format"):
        WebhookDispatcher(WebhookConfig(payload_format="xml"), Clock(), lambda realm_id: True)


def test_removing_every_target_disables_notifications(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url])
    dispatcher.configure(urls=[])
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)

    assert dispatcher.enabled is False
    assert dispatcher.flush(timeout=1) is True
    assert (dispatcher.outbox(), receiver.requests) == ([], [])


def test_stop_makes_a_last_delivery_attempt(make_dispatcher, receiver) -> None:
    dispatcher = make_dispatcher(urls=[receiver.url])  # window of an hour: only stop delivers
    dispatcher.start()
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)

    assert dispatcher.stop() is True

    assert receiver.realms_seen() == ["1"]


def test_stop_returns_promptly_with_retries_outstanding(make_dispatcher, receiver) -> None:
    receiver.fail_first = 10
    dispatcher = make_dispatcher(urls=[receiver.url], retry_schedule_seconds=(3600.0,))
    dispatcher.notify("1", "Customer", "1", "Create", SAMPLE_MOMENT)
    dispatcher.start()
    outcome: list[bool] = []

    stopper = threading.Thread(target=lambda: outcome.append(dispatcher.stop()))
    stopper.start()
    stopper.join(timeout=10)

    assert not stopper.is_alive()
    assert outcome == [False]
    [delivery] = dispatcher.outbox()
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)


def test_timestamp_formats() -> None:
    winter = datetime(2023, 2, 18, 21, 13, 33, 500000, tzinfo=UTC)
    assert legacy_time(winter) == "2023-02-18T13:13:33-0800"
    assert cloudevents_time(winter) == "2023-02-18T21:13:33.500Z"

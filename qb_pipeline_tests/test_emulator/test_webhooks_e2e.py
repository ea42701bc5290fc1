"""Webhooks end to end: API writes on a connected realm reach a receiver, signed as Intuit signs;
the back door's simulated business days produce them too. Real HTTP on loopback ports."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline.emulator.config import EmulatorConfig, WebhookConfig

VERIFIER = "e2e-verifier-token"


class Receiver:
    """A loopback webhook endpoint that records (headers, raw body) of every POST."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Receiver:
    hook = Receiver()
    yield hook
    hook.stop()


def start(receiver: Receiver, payload_format: str) -> EmulatorServer:
    config = EmulatorConfig(
        webhooks=WebhookConfig(
            urls=[receiver.url],
            verifier_token=VERIFIER,
            payload_format=payload_format,
            group_window_seconds=0.05,
            retry_schedule_seconds=(0.05, 0.05),
        )
    )
    config.limits.enabled = False
    return EmulatorServer(Emulator(config)).start()


def signed_ok(headers: dict[str, str], body: bytes) -> bool:
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), headers["intuit-signature"])


def test_api_writes_on_a_connected_realm_are_delivered_signed(receiver: Receiver) -> None:
    server = start(receiver, "legacy")
    try:
        em = server.emulator
        quiet = em.create_realm()  # no grant: never notified
        realm = em.create_realm()
        token = em.oauth.issue_tokens(realm.realm_id)["access_token"]
        api = httpx.Client(
            base_url=f"{server.url}/v3/company/{realm.realm_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        customer = api.post("/customer", json={"DisplayName": "Hooked"}).json()["Customer"]
        quiet.create("Customer", {"DisplayName": "Unseen"})
        assert em.webhooks.flush(5.0)
        bodies = [json.loads(body) for _headers, body in receiver.deliveries]
        assert all(signed_ok(h, b) for h, b in receiver.deliveries)
        notices = [n for body in bodies for n in body["eventNotifications"]]
        assert {n["realmId"] for n in notices} == {realm.realm_id}
        entities = [e for n in notices for e in n["dataChangeEvent"]["entities"]]
        assert {"name": "Customer", "id": customer["Id"], "operation": "Create"} == {
            k: entities[0][k] for k in ("name", "id", "operation")
        }
        outbox = httpx.get(f"{server.url}/_emulator/webhooks/outbox").json()
        assert outbox and all(item["status"] == "delivered" for item in outbox)
    finally:
        server.stop()


def test_void_and_simulated_days_arrive_as_cloudevents(receiver: Receiver) -> None:
    server = start(receiver, "cloudevents")
    try:
        em = server.emulator
        realm = em.create_realm(size="tiny", seed=4)
        grant = em.oauth.issue_tokens(realm.realm_id)
        invoice = next(i for i in realm.list("Invoice") if i["TotalAmt"] and not i["LinkedTxn"])
        api = httpx.Client(
            base_url=f"{server.url}/v3/company/{realm.realm_id}",
            headers={"Authorization": f"Bearer {grant['access_token']}"},
        )
        voided = api.post(
            "/invoice",
            params={"operation": "void"},
            json={"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]},
        )
        assert voided.status_code == 200
        before = sum(realm.counts().values())
        simulated = httpx.post(
            f"{server.url}/_emulator/realms/{realm.realm_id}/simulate",
            json={"days": 3, "seed": 9},
            timeout=60,
        )
        assert simulated.status_code == 200
        assert sum(realm.counts().values()) > before
        assert em.webhooks.flush(5.0)
        events = [e for _h, body in receiver.deliveries for e in json.loads(body)]
        assert all(signed_ok(h, b) for h, b in receiver.deliveries)
        assert all(
            h["content-type"].startswith("application/cloudevents+json")
            for h, _b in receiver.deliveries
        )
        types = {e["type"] for e in events}
        assert "qbo.invoice.voided.v1" in types
        assert any(t.endswith(".created.v1") for t in types)
        assert {e["intuitaccountid"] for e in events} == {realm.realm_id}
    finally:
        server.stop()

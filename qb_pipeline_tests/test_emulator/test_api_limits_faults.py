"""Throttles and injected faults over real HTTP (the network matters here).

Real (API_FACTS 4.3, 5): per-realm limits of 10 requests in flight, 10 per second, 500 per
minute and 40 batch calls per minute, each answered with HTTP 429, fault 3001, type SERVICE
(or QBO's historical XML body); the limiter's counters record the offered load. Faked on
purpose (faults.py): 500 SystemFault 10000, the 503 HTML page of a gateway, dropped
connections, injected latency and 429 storms; the back door is never faulted or throttled.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import (
    Realm,
    assert_fault,
    new_realm,
    open_client,
)

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def assert_throttled(resp: httpx.Response) -> None:
    error = assert_fault(resp, 429, "3001")
    assert error["type"] == "SERVICE"
    assert error["Message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert resp.headers["retry-after"] == "60"


def concurrent_statuses(server: EmulatorServer, realm: Realm, count: int) -> list[httpx.Response]:
    """``count`` GETs released together, one connection each (warmed on the back door)."""
    clients = [open_client(server.url, realm.realm_id, realm.token) for _ in range(count)]
    for client in clients:
        assert client.get(f"{server.url}/_emulator/clock").status_code == 200
    barrier = threading.Barrier(count)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def call(client: httpx.Client) -> None:
        barrier.wait()
        resp = client.get("/item/1")
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for client in clients:
        client.close()
    return results


def test_twelve_concurrent_slow_requests_hit_the_real_limits(
    server: EmulatorServer, realm: Realm, emulator: Emulator
) -> None:
    emulator.config.limits.enabled = True
    emulator.config.faults.latency_ms = 300
    results = concurrent_statuses(server, realm, 12)
    statuses = sorted(resp.status_code for resp in results)
    assert statuses == [200] * 10 + [429] * 2
    for resp in results:
        if resp.status_code == 429:
            assert_throttled(resp)
    counters = emulator.limiter.counters(realm.realm_id)
    assert counters["requests"] == 12 and counters["throttled"] == 2
    assert counters["peak_per_second"] == 12 and counters["in_flight"] == 0


def test_in_flight_limit_alone_throttles_overlapping_requests(
    server: EmulatorServer, realm: Realm, emulator: Emulator
) -> None:
    emulator.config.limits.enabled = True
    emulator.config.limits.requests_per_second = 1000
    emulator.config.faults.latency_ms = 300
    results = concurrent_statuses(server, realm, 12)
    throttled = [resp for resp in results if resp.status_code == 429]
    assert throttled and len(throttled) + sum(r.status_code == 200 for r in results) == 12
    for resp in throttled:
        assert_throttled(resp)
    assert emulator.limiter.counters(realm.realm_id)["peak_in_flight"] > 10


def test_requests_per_minute(realm: Realm, emulator: Emulator) -> None:
    emulator.config.limits.enabled = True
    emulator.config.limits.requests_per_second = 1000
    emulator.config.limits.requests_per_minute = 20
    responses = [realm.client.get("/item/1") for _ in range(30)]
    assert [r.status_code for r in responses] == [200] * 20 + [429] * 10
    assert_throttled(responses[-1])
    counters = emulator.limiter.counters(realm.realm_id)
    assert counters["requests"] == 30 and counters["throttled"] == 10
    assert counters["peak_per_minute"] == 30 and counters["peak_in_flight"] == 1


def test_batch_per_minute(realm: Realm, emulator: Emulator) -> None:
    emulator.config.limits.enabled = True
    emulator.config.limits.requests_per_second = 1000
    emulator.config.limits.batch_per_minute = 3
    body = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT COUNT(*) FROM Item"}]}
    statuses = [realm.client.post("/batch", json=body).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert realm.client.get("/item/1").status_code == 200  # other calls are not batch calls
    assert emulator.limiter.counters(realm.realm_id)["batch_requests"] == 5


def test_limits_are_per_realm(server: EmulatorServer, realm: Realm, emulator: Emulator) -> None:
    emulator.config.limits.enabled = True
    emulator.config.limits.requests_per_second = 1000
    emulator.config.limits.requests_per_minute = 3
    other = new_realm(server)
    try:
        assert [realm.client.get("/item/1").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert other.client.get("/item/1").status_code == 200
    finally:
        other.client.close()


def test_xml_throttle_body(realm: Realm, emulator: Emulator) -> None:
    emulator.config.faults.xml_throttle = True
    emulator.config.faults.throttle_storm_every = 1
    emulator.config.faults.throttle_storm_length = 1
    resp = realm.client.get("/item/1")
    assert resp.status_code == 429
    assert resp.headers["content-type"].startswith("application/xml")
    text = resp.text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    assert '<Fault type="SERVICE"><Error code="3001">' in text
    assert "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>" in text


def test_throttle_storm_pattern(realm: Realm, emulator: Emulator) -> None:
    emulator.config.faults.throttle_storm_every = 3
    emulator.config.faults.throttle_storm_length = 2
    before = emulator.faults.injected.get("throttle", 0)
    statuses = [realm.client.get("/item/1").status_code for _ in range(8)]
    assert statuses == [200, 200, 429, 429, 200, 429, 429, 200]
    assert emulator.faults.injected["throttle"] - before == 4


def test_error_500_is_a_system_fault(
    server: EmulatorServer, realm: Realm, emulator: Emulator
) -> None:
    emulator.config.faults.error_500_rate = 1.0
    resp = realm.client.post("/customer", json={"DisplayName": "Never stored"})
    error = assert_fault(resp, 500, "10000")
    assert error["type"] == "SystemFault"
    assert error["Message"] == "An application error has occurred while processing your request"
    assert realm.books.counts().get("Customer", 0) == 0
    assert realm.client.get(f"{server.url}/_emulator/clock").status_code == 200


def test_error_503_is_an_html_page(realm: Realm, emulator: Emulator) -> None:
    emulator.config.faults.error_503_rate = 1.0
    resp = realm.client.get("/item/1")
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.text.startswith("<html>") and "503 Service Temporarily Unavailable" in resp.text
    with pytest.raises(ValueError):
        resp.json()


def test_dropped_connection_is_a_transport_error(realm: Realm, emulator: Emulator) -> None:
    emulator.config.faults.drop_rate = 1.0
    before = emulator.faults.injected.get("drop", 0)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        realm.client.post("/customer", json={"DisplayName": "Dropped"})
    emulator.config.faults.drop_rate = 0.0
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 0}
    assert emulator.faults.injected["drop"] - before == 1


def test_latency_is_applied(realm: Realm, emulator: Emulator) -> None:
    emulator.config.faults.latency_ms = 250
    started = time.monotonic()
    resp = realm.client.get("/item/1")
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.24

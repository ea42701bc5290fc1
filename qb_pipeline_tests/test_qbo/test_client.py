"""QBOClient against the emulator over real HTTP (each test on a fresh empty company).

Real: the wire (URLs, minorversion, requestid, bearer header), QBO's faults and envelopes as the
emulator serves them, replay of a repeated requestid, 401 handling, injected 5xx/429/drops.
Faked: tokens come from the emulator's back door; retry waits are milliseconds (or a fake
clock that the injected sleep advances)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.config import FaultsConfig
from qb_pipeline.qbo.batch import BatchItem
from qb_pipeline.qbo.client import QBOClient, answer_time, request_id_for
from qb_pipeline.qbo.errors import (
    AuthError,
    NotFoundError,
    QBOError,
    RealmDisconnected,
    StaleObjectError,
    ThrottledError,
    TransientError,
    ValidationError,
)
from qb_pipeline.qbo.query import select
from qb_pipeline.qbo.ratelimit import RateLimiter
from qb_pipeline.qbo.retry import RetryPolicy

Connect = Callable[..., QBOClient]
LINE = {"Amount": 100.0, "DetailType": "SalesItemLineDetail"}
LINE["SalesItemLineDetail"] = {"ItemRef": {"value": "1"}}  # type: ignore[assignment]


def new_invoice(client: QBOClient, customer_id: str, **extra: Any) -> dict[str, Any]:
    body = {"CustomerRef": {"value": customer_id}, "Line": [LINE], **extra}
    return client.create("Invoice", body)


class CountingTokens:
    """A provider whose first token is wrong (or that refuses), counting its calls."""

    def __init__(self, first: str, fresh: str, *, disconnected: bool = False) -> None:
        self.current, self.fresh, self.disconnected = first, fresh, disconnected
        self.calls: list[str] = []

    def access_token(self, realm_id: str) -> str:
        self.calls.append("access")
        return self.current

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        self.calls.append("unauthorized")
        if self.disconnected:
            raise RealmDisconnected("invalid_grant: reconnect the company", realm_id=realm_id)
        self.current = self.fresh
        return self.fresh


def test_crud_round_trip(connect: Connect, books: Books) -> None:
    client = connect(books)
    customer = client.create("Customer", {"DisplayName": "Amy's Bird Sanctuary"})
    assert client.read("Customer", customer["Id"])["DisplayName"] == "Amy's Bird Sanctuary"
    changed = client.update(
        "Customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "Notes": "vip"}
    )
    assert changed["Notes"] == "vip" and changed["SyncToken"] == "1"
    assert changed["DisplayName"] == "Amy's Bird Sanctuary"  # sparse: the rest untouched
    invoice = new_invoice(client, customer["Id"])
    assert invoice["TotalAmt"] == 100.0
    voided = client.void("Invoice", invoice["Id"], invoice["SyncToken"])
    assert voided["TotalAmt"] == 0 and "Voided" in voided["PrivateNote"]
    other = new_invoice(client, customer["Id"])
    gone = client.delete("Invoice", other["Id"], other["SyncToken"])
    assert gone["status"] == "Deleted"
    with pytest.raises(NotFoundError) as caught:
        client.read("Invoice", other["Id"])
    error = caught.value
    assert (error.code, error.realm_id, error.status) == ("610", books.realm_id, 400)
    assert error.intuit_tid  # captured from the response header
    assert books.objects["Invoice"][invoice["Id"]]["TotalAmt"] == 0


def test_full_update_replaces_the_object(connect: Connect, books: Books) -> None:
    client = connect(books)
    customer = client.create("Customer", {"DisplayName": "Full", "Notes": "old"})
    full = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "DisplayName": "Full"}
    updated = client.update("Customer", full, sparse=False)
    assert "Notes" not in updated  # omitted writable fields are cleared by a full update


def test_stale_sync_token_raises_stale_object_error(connect: Connect, books: Books) -> None:
    client = connect(books)
    customer = client.create("Customer", {"DisplayName": "Stale Co"})
    client.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "first"})
    with pytest.raises(StaleObjectError) as caught:
        client.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "Notes": "second"})
    assert caught.value.code == "5010" and not caught.value.retryable
    assert client.limiter.counters(books.realm_id)["write"] == 3  # not retried
    assert books.objects["Customer"][customer["Id"]]["Notes"] == "first"


def test_every_call_pins_minorversion_and_every_write_has_a_request_id(
    connect: Connect, books: Books, emulator_server: EmulatorServer
) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [seen.append]}) as http:
        client = connect(books, http=http)
        customer = client.create("Customer", {"DisplayName": "Wire"})
        client.read("Customer", customer["Id"])
        list(client.query(select("Customer")))
        client.count(select("Item"))
        client.cdc(["Customer"], emulator_server.emulator.clock.now() - timedelta(hours=1))
        client.batch([BatchItem.select("q", select("Term"))])
        client.report("TrialBalance")
    assert len(seen) == 7
    for request in seen:
        params = parse_qs(urlsplit(str(request.url)).query)
        assert params["minorversion"] == ["75"]
        assert request.headers["Accept"] == "application/json"
        assert ("requestid" in params) == (request.method == "POST")
        if request.method == "POST":
            assert len(params["requestid"][0]) <= 36


def test_the_same_idempotency_key_never_creates_twice(
    connect: Connect, books: Books, emulator_server: EmulatorServer
) -> None:
    first = connect(books).create("Vendor", {"DisplayName": "Once"}, idempotency_key="po-77")
    again = connect(books).create("Vendor", {"DisplayName": "Once"}, idempotency_key="po-77")
    assert again == first
    assert [v["DisplayName"] for v in books.objects["Vendor"].values()] == ["Once"]
    assert emulator_server.emulator.request_counts[books.realm_id]["replay"] == 1
    rid = request_id_for("po-77", "create", "Vendor")
    assert rid == request_id_for("po-77", "create", "Vendor") and len(rid) <= 36
    assert rid != request_id_for("po-77", "create", "Invoice")
    assert rid != request_id_for("po-77", "update", "Vendor")


def test_a_write_retried_after_a_dropped_response_creates_nothing_twice(
    connect: Connect,
    books: Books,
    emulator_server: EmulatorServer,
    clean_faults: FaultsConfig,
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the connection came back: stop dropping answers
        waits.append(seconds)
        clean_faults.drop_after_commit_rate = 0.0

    client = connect(books, sleep=sleep)
    clean_faults.drop_after_commit_rate = 1.0
    created = client.create("Customer", {"DisplayName": "Dropped Once"}, idempotency_key="c-1")
    assert len(waits) == 1  # one dropped answer, one retry
    names = [c["DisplayName"] for c in books.objects["Customer"].values()]
    assert names == ["Dropped Once"]
    assert created["Id"] in books.objects["Customer"]
    assert emulator_server.emulator.request_counts[books.realm_id]["replay"] == 1


def test_a_write_without_key_still_survives_a_drop(
    connect: Connect, books: Books, clean_faults: FaultsConfig
) -> None:
    client = connect(books, sleep=lambda _s: setattr(clean_faults, "drop_after_commit_rate", 0))
    clean_faults.drop_after_commit_rate = 1.0
    client.create("Vendor", {"DisplayName": "Random Id"})
    assert len(books.objects["Vendor"]) == 1


def test_query_pages_and_count(connect: Connect, emulator_server: EmulatorServer) -> None:
    books = emulator_server.emulator.create_realm(size="tiny", seed=3)
    client = connect(books)
    query = select("Invoice").order_by("Id")
    ids = [row["Id"] for page in client.query(query, page_size=9) for row in page.rows]
    assert sorted(ids) == sorted(books.objects["Invoice"]) and len(ids) == len(set(ids))
    assert client.count(query) == len(ids)
    customers = list(client.rows(select("Customer")))
    assert len(customers) == len(books.objects["Customer"])  # inactive ones included
    assert client.count("SELECT * FROM Customer WHERE Active = true") <= len(customers)


def test_cdc_round_trip(connect: Connect, books: Books, emulator_server: EmulatorServer) -> None:
    client = connect(books)
    since = emulator_server.emulator.clock.now() - timedelta(minutes=5)
    customer = client.create("Customer", {"DisplayName": "CDC Co"})
    kept = new_invoice(client, customer["Id"])
    dropped = new_invoice(client, customer["Id"])
    client.delete("Invoice", dropped["Id"], dropped["SyncToken"])
    kept = client.update("Invoice", {"Id": kept["Id"], "SyncToken": "0", "PrivateNote": "v2"})
    result = client.cdc(["Invoice", "Customer", "Vendor"], since)
    assert [i["Id"] for i in result.changed["Invoice"]] == [kept["Id"]]
    assert result.changed["Invoice"][0]["SyncToken"] == kept["SyncToken"]
    assert result.deleted["Invoice"] == (dropped["Id"],)
    assert [c["Id"] for c in result.changed["Customer"]] == [customer["Id"]]
    assert result.changed["Vendor"] == () and not result.capped
    with pytest.raises(ValueError, match="TaxCode"):
        client.cdc(["Invoice", "TaxCode"], since)


def test_batch_round_trip(connect: Connect, books: Books) -> None:
    client = connect(books)
    customer = client.create("Customer", {"DisplayName": "Batch Co"})
    invoice = new_invoice(client, customer["Id"])
    results = client.batch(
        [
            BatchItem.create("new", "Vendor", {"DisplayName": "Boraski Family Store"}),
            BatchItem.update("stale", "Customer", {"Id": customer["Id"], "SyncToken": "7"}),
            BatchItem.delete("missing", "Invoice", "999999", "0"),
            BatchItem.void("void", "Invoice", invoice["Id"], invoice["SyncToken"]),
            BatchItem.select("terms", select("Term")),
        ],
        idempotency_key="batch-1",
    )
    by_bid = {r.bid: r for r in results}
    assert [r.bid for r in results] == ["new", "stale", "missing", "void", "terms"]
    assert by_bid["new"].ok and by_bid["new"].value["DisplayName"] == "Boraski Family Store"
    assert isinstance(by_bid["stale"].error, StaleObjectError)
    assert isinstance(by_bid["missing"].error, NotFoundError)
    assert by_bid["void"].ok and by_bid["void"].value["TotalAmt"] == 0
    assert len(by_bid["terms"].value["Term"]) == len(books.objects["Term"])
    assert [v["DisplayName"] for v in books.objects["Vendor"].values()] == ["Boraski Family Store"]
    assert client.limiter.counters(books.realm_id)["batch"] == 1
    with pytest.raises(ValueError, match=r"1\.\.30"):
        client.batch([BatchItem.select(f"q{i}", select("Term")) for i in range(31)])
    with pytest.raises(ValueError, match="unique"):
        client.batch([BatchItem.select("q", select("Term"))] * 2)


def test_query_batch_answers_in_order_with_the_server_time(connect: Connect, books: Books) -> None:
    client = connect(books)
    answers, envelope = client.query_batch([select("Term").sql, select("Customer").count_sql])
    assert len(answers[0]["Term"]) == len(books.objects["Term"])
    assert answers[1]["totalCount"] == len(books.objects["Customer"])
    assert answer_time(envelope) is not None
    with pytest.raises(QBOError):  # the item QBO refused, not a silent empty answer
        client.query_batch(["SELECT * FROM Term", "SELECT * FROM Invoice WHERE Line.Amount = '1'"])


def test_cdc_batch_gives_each_query_its_answer_or_its_error(
    connect: Connect, books: Books, emulator_server: EmulatorServer
) -> None:
    client = connect(books)
    since = emulator_server.emulator.clock.now() - timedelta(minutes=5)
    customer = client.create("Customer", {"DisplayName": "Batch CDC Co"})
    results, envelope = client.cdc_batch(
        [
            (["Customer"], since),
            (["Invoice", "Vendor"], since),
            (["Customer"], since - timedelta(days=40)),
        ]
    )
    assert [r["Id"] for r in results[0].value["QueryResponse"][0]["Customer"]] == [customer["Id"]]
    assert results[1].value["QueryResponse"] == [{}, {}]
    assert isinstance(results[2].error, QBOError)  # more than 30 days back: that item alone
    assert answer_time(envelope) is not None
    assert client.limiter.counters(books.realm_id)["batch"] == 1
    with pytest.raises(ValueError, match="does not serve"):
        client.cdc_batch([(["TaxCode"], since)])
    with pytest.raises(ValueError, match="time zone"):
        client.cdc_batch([(["Customer"], since.replace(tzinfo=None))])


def test_report_pdf_and_send(connect: Connect, books: Books) -> None:
    client = connect(books)
    customer = client.create("Customer", {"DisplayName": "Mail Co"})
    invoice = new_invoice(client, customer["Id"])
    assert client.invoice_pdf(invoice["Id"]).startswith(b"%PDF")
    sent = client.send("Invoice", invoice["Id"], send_to="ap@mail.example")
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["BillEmail"]["Address"] == "ap@mail.example"
    report = client.report("ProfitAndLoss", start_date="2020-01-01", end_date="2030-12-31")
    assert report["Header"]["ReportName"] == "ProfitAndLoss"
    counters = client.limiter.counters(books.realm_id)
    assert counters["report"] == 1 and counters["metered"] == 2  # report + pdf read


def test_operations_qbo_cannot_do_are_refused_before_any_request(
    connect: Connect, books: Books
) -> None:
    client = connect(books)
    with pytest.raises(ValueError, match="deactivate"):
        client.delete("Customer", "1", "0")
    with pytest.raises(ValueError, match="cannot be voided"):
        client.void("Bill", "1", "0")
    with pytest.raises(ValueError, match="SyncToken"):
        client.update("Customer", {"Id": "1"})
    with pytest.raises(ValueError, match="digits"):
        client.read("Invoice", "1/../2")
    assert client.limiter.counters(books.realm_id)["requests"] == 0


def test_validation_fault_names_the_field(connect: Connect, books: Books) -> None:
    with pytest.raises(ValidationError) as caught:
        connect(books).create("Invoice", {"CustomerRef": {"value": "1"}})
    assert caught.value.element == "Line" and caught.value.code == "2020"


def test_a_401_refreshes_once_and_retries(
    connect: Connect, books: Books, emulator_server: EmulatorServer
) -> None:
    good = emulator_server.emulator.oauth.issue_tokens(books.realm_id)["access_token"]
    tokens = CountingTokens("expired-token", good)
    client = connect(books, tokens=tokens)
    assert client.read("CompanyInfo", books.realm_id)["CompanyName"]
    assert tokens.calls == ["access", "unauthorized"]


def test_a_second_401_is_an_auth_error_that_hides_the_token(
    connect: Connect, books: Books, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "not-a-valid-token-0123456789abcdef"
    tokens = CountingTokens(secret, secret)
    client = connect(books, tokens=tokens)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        client.read("Customer", "1")
    assert tokens.calls == ["access", "unauthorized"]
    assert client.limiter.counters(books.realm_id)["requests"] == 2  # tried once more, no more
    assert caught.value.status == 401 and caught.value.intuit_tid
    for text in (str(caught.value), repr(caught.value), repr(client), *caplog.messages):
        assert secret not in text and secret[:12] not in text


def test_a_revoked_realm_is_not_retried(
    connect: Connect, books: Books, emulator_server: EmulatorServer
) -> None:
    em = emulator_server.emulator
    token = em.oauth.issue_tokens(books.realm_id)["access_token"]
    tokens = CountingTokens(token, "unused", disconnected=True)
    client = connect(books, tokens=tokens)
    em.oauth.revoke_realm(books.realm_id)
    with pytest.raises(RealmDisconnected):
        client.read("Customer", "1")
    assert tokens.calls == ["access", "unauthorized"]
    assert client.limiter.counters(books.realm_id)["requests"] == 1

    class Disconnected:
        def access_token(self, realm_id: str) -> str:
            raise RealmDisconnected("invalid_grant", realm_id=realm_id)

        def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
            raise AssertionError("never reached")

    slept: list[float] = []
    offline = connect(books, tokens=Disconnected(), sleep=slept.append)
    with pytest.raises(RealmDisconnected):
        offline.create("Customer", {"DisplayName": "Never"})
    assert slept == [] and offline.limiter.counters(books.realm_id)["requests"] == 0


def test_server_errors_are_retried_then_surface(
    connect: Connect, books: Books, clean_faults: FaultsConfig
) -> None:
    slept: list[float] = []
    client = connect(books, sleep=slept.append)
    clean_faults.error_503_rate = 1.0  # the gateway's HTML page, not JSON
    with pytest.raises(TransientError) as caught:
        client.read("Item", "1")
    assert caught.value.status == 503 and caught.value.intuit_tid
    assert len(slept) == 5 and client.limiter.counters(books.realm_id)["requests"] == 6
    clean_faults.error_503_rate = 0.0
    clean_faults.error_500_rate = 0.5
    clean_faults.seed = 7
    items = [client.read("Item", "1") for _ in range(6)]
    assert all(item["Id"] == "1" for item in items)


def test_a_429_pauses_the_realm_for_the_servers_wait(
    connect: Connect, books: Books, clean_faults: FaultsConfig
) -> None:
    clock = [0.0]

    def sleep(seconds: float) -> None:  # time passes only when the client waits
        clock[0] += seconds

    limiter = RateLimiter(clock=lambda: clock[0], max_wait=0.01)
    policy = RetryPolicy(max_delay=120.0)
    client = connect(books, limiter=limiter, retry=policy, sleep=sleep)
    clean_faults.throttle_storm_every, clean_faults.throttle_storm_length = 1, 1
    with pytest.raises(ThrottledError) as caught:
        client.read("Item", "1")
    assert caught.value.retry_after == 60.0 and caught.value.code == "3001"
    assert clock[0] == 60.0 * 5  # Retry-After: 60 honoured before each of the 5 retries
    counters = limiter.counters(books.realm_id)
    assert counters["pauses"] == 5 and counters["requests"] == 6
    clean_faults.throttle_storm_every = 0
    assert client.read("Item", "1")["Id"] == "1"

"""extract_realm + load_realm against the emulator over HTTP: the warehouse equals the books.

Real: an EmulatorServer on a loopback port, the real QBOClient (StaticTokenProvider), query
paging, CDC with its cap and 30-day refusal, landing batches, manifests, merge, DuckDB.
Faked: rate limits are lifted (emulator and client) so the tests run fast; the books are changed
in-process through the emulator's Books (the same rules as API writes), plus one payment over
HTTP; a mid-extract crash is an exception injected into the extractor's page call; the 30-day
gap is the emulator clock and the engine's ``now`` moved forward together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.ratelimit import RateLimiter, RateLimits
from qb_pipeline.qbo.retry import RetryPolicy
from qb_pipeline.qbo.tokens import StaticTokenProvider
from qb_pipeline.warehouse import Warehouse, cursor, pending_batches, raw_table
from qb_pipeline.warehouse import extract as extract_module
from qb_pipeline.warehouse.extract import SYNC_ENTITIES, ExtractManifest, extract_realm
from qb_pipeline.warehouse.load import load_realm
from qb_pipeline.warehouse.manifest import read_manifests
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    change_the_books,
    differences,
    moment_after_everything,
)

FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05, throttle_wait=0.05)
LIFTED = RateLimits(per_minute=1_000_000, per_second=100_000, batch_per_minute=10_000)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    em = EmulatorServer().start()
    em.emulator.config.limits.enabled = False
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture
def books(server: EmulatorServer) -> Iterator[Books]:
    company = server.emulator.create_realm(size="tiny")
    yield company
    server.emulator.delete_realm(company.realm_id)


class BackDoorTokens(StaticTokenProvider):
    """A token from the emulator's back door, re-issued when refused (the clock jumps a month)."""

    def __init__(self, server: EmulatorServer, realm_id: str) -> None:
        self._server = server
        super().__init__({realm_id: self._issue(realm_id)})

    def _issue(self, realm_id: str) -> str:
        return self._server.emulator.oauth.issue_tokens(realm_id)["access_token"]

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        self._tokens[realm_id] = self._issue(realm_id)
        return self._tokens[realm_id]


@pytest.fixture
def client(server: EmulatorServer, books: Books) -> QBOClient:
    return QBOClient(
        books.realm_id,
        BackDoorTokens(server, books.realm_id),
        base_url=server.url,
        limiter=RateLimiter(LIFTED),
        retry=FAST_RETRY,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def sync(
    server: EmulatorServer, client: QBOClient, warehouse: Warehouse, tmp_path: Path
) -> Callable[..., ExtractManifest]:
    """``sync(load=True, **options)``: extract (on the emulator's clock) and load the realm."""

    def run(load: bool = True, **options: object) -> ExtractManifest:
        manifest = extract_realm(
            client, warehouse, tmp_path / "landing", now=server.emulator.clock.now, **options
        )
        if load:
            load_realm(warehouse, tmp_path / "landing", client.realm_id)
        return manifest

    return run


def pay_invoice(client: QBOClient, books: Books) -> str:
    """A payment over HTTP: the customer's Balance and LastUpdatedTime move, not its SyncToken."""
    invoice = next(i for i in books.objects["Invoice"].values() if float(i["Balance"]) > 0)
    line = {"Amount": 10, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    payment = {"CustomerRef": invoice["CustomerRef"], "TotalAmt": 10, "Line": [line]}
    return client.create("Payment", payment)["Id"]


def is_deleted(warehouse: Warehouse, realm_id: str, entity: str, object_id: str) -> bool:
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            f"SELECT deleted FROM {raw_table(entity)} WHERE realm_id = ? AND id = ?",
            [realm_id, object_id],
        ).fetchone()
    assert row is not None, f"{entity} {object_id} never reached the warehouse"
    return bool(row[0])


def test_full_then_incremental_sync_equals_the_books(
    sync: Callable[..., ExtractManifest],
    server: EmulatorServer,
    client: QBOClient,
    books: Books,
    warehouse: Warehouse,
) -> None:
    first = sync()
    assert first.mode == "full"
    assert {e.mode for e in first.entities.values()} == {"full"}
    assert set(first.entities) == set(SYNC_ENTITIES)
    assert differences(warehouse, books) == []

    touched = change_the_books(books, moment_after_everything(books))
    pay_invoice(client, books)
    second = sync()

    assert second.mode == "cdc"
    assert second.entities["Invoice"].mode == "cdc"
    # CDC does not serve TaxCode; it was listed less than LIST_REFRESH ago, so it is not re-read
    assert second.entities["TaxCode"].mode == "skipped"
    assert second.api_calls == 1  # one /batch call: a CDC query for each entity
    assert second.entities["Invoice"].rows >= 2  # the created, the voided (and paid) invoices
    assert differences(warehouse, books) == []
    assert is_deleted(warehouse, books.realm_id, "Purchase", touched["deleted_purchase"])
    assert cursor(warehouse, books.realm_id, "Invoice") == second.entities["Invoice"].cursor_at


def test_lists_cdc_does_not_serve_are_relisted_when_due_in_one_batch_call(
    sync: Callable[..., ExtractManifest], books: Books, warehouse: Warehouse
) -> None:
    sync()
    code = next(iter(books.objects["TaxCode"].values()))
    books.update(
        "TaxCode",
        {"Id": code["Id"], "SyncToken": code["SyncToken"], "sparse": True, "Description": "New"},
        at=moment_after_everything(books),
    )
    assert sync().entities["TaxCode"].mode == "skipped"
    assert any(d.startswith("TaxCode") for d in differences(warehouse, books))

    due = sync(list_refresh=timedelta(0))

    lists = ("TaxCode", "TaxRate", "TaxAgency", "ExchangeRate")
    assert {due.entities[name].mode for name in lists} == {"full"}
    assert due.api_calls == 2  # the CDC call and one /batch call holding the four listings
    assert differences(warehouse, books) == []


def _touch(books: Books, entity: str, count: int, start: datetime, field: str, tag: str) -> None:
    """Sparse-update the first ``count`` objects of an entity, a second apart from ``start``."""
    for n, obj in enumerate(list(books.objects[entity].values())[:count]):
        books.update(
            entity,
            {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "sparse": True, field: f"{tag}{n}"},
            at=start + timedelta(seconds=n),
        )


@contextmanager
def _cdc_cap(server: EmulatorServer, cap: int) -> Iterator[int]:
    """The emulator's CDC cap lowered for the block (pass the value to ``sync`` as well)."""
    server.emulator.config.cdc_max_objects = cap
    try:
        yield cap
    finally:
        server.emulator.config.cdc_max_objects = 1000


def _delete_an_invoice(books: Books, at: datetime) -> str:
    victim = list(books.objects["Invoice"].values())[-1]
    books.delete("Invoice", {"Id": victim["Id"], "SyncToken": victim["SyncToken"]}, at=at)
    return victim["Id"]


def test_changes_over_the_cap_in_all_take_one_call_when_each_entity_is_under_it(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    """Each CDC query of the batch has its own cap: only one entity's own changes can fill it."""
    sync()
    now = moment_after_everything(books)
    deleted = _delete_an_invoice(books, now)
    _touch(books, "Vendor", 3, now + timedelta(seconds=1), "AcctNum", "E")
    _touch(books, "Item", 3, now + timedelta(seconds=5), "Description", "E")
    with _cdc_cap(server, 4) as cap:
        manifest = sync(cdc_max_objects=cap)

    assert manifest.api_calls == 1
    changed = {name: e.rows + e.deleted for name, e in manifest.entities.items()}
    assert sum(changed.values()) > cap and max(changed.values()) < cap
    assert {e.mode for e in manifest.entities.values()} <= {"cdc", "skipped"}
    assert is_deleted(warehouse, books.realm_id, "Invoice", deleted)
    assert differences(warehouse, books) == []


def test_an_entity_with_a_caps_worth_of_changes_is_relisted_for_its_deletes(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    sync()
    now = moment_after_everything(books)
    deleted = _delete_an_invoice(books, now)
    _touch(books, "Invoice", 5, now + timedelta(seconds=1), "PrivateNote", "each ")
    with _cdc_cap(server, 4) as cap:  # its delete comes after its updates: the cap cut it
        manifest = sync(cdc_max_objects=cap)

    invoice = manifest.entities["Invoice"]
    assert invoice.mode == "fallback" and invoice.live_ids is not None  # listed in full
    assert deleted not in invoice.live_ids
    assert manifest.api_calls == 2  # the CDC batch, then one /batch of first pages
    # the invoice edits also moved their customers' LastUpdatedTime: Customer filled its own
    # answer and was listed in the same /batch call; entities under the cap stay on CDC
    assert manifest.entities["Customer"].mode == "fallback"
    assert manifest.entities["Account"].mode == manifest.entities["Vendor"].mode == "cdc"
    assert is_deleted(warehouse, books.realm_id, "Invoice", deleted)
    assert differences(warehouse, books) == []


def test_a_qbo_refusing_cdc_queries_in_a_batch_is_asked_through_cdc(
    sync: Callable[..., ExtractManifest],
    server: EmulatorServer,
    books: Books,
    warehouse: Warehouse,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync()
    deleted = _delete_an_invoice(books, moment_after_everything(books))
    server.emulator.config.batch_cdc = False
    try:
        manifest = sync()
    finally:
        server.emulator.config.batch_cdc = True

    assert "refused CDC queries in a batch" in caplog.text
    assert manifest.api_calls == 2  # the refused batch, then GET /cdc
    assert manifest.entities["Invoice"].mode == "cdc"
    assert is_deleted(warehouse, books.realm_id, "Invoice", deleted)
    assert differences(warehouse, books) == []


# GET /cdc (QB_BATCH_CDC=0): one answer and one cap for 30 entities at once.
def test_cdc_cap_is_completed_by_query_paging(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    sync()
    now = moment_after_everything(books)
    _touch(books, "Vendor", 6, now, "AcctNum", "A")  # more changes than the (lowered) cap
    with _cdc_cap(server, 3) as cap:
        manifest = sync(cdc_max_objects=cap, batch_cdc=False)

    assert manifest.entities["Vendor"].mode == "fallback"
    assert manifest.entities["Vendor"].rows >= 6
    # the capped CDC call, one /batch call with a query for every entity of that call, and one
    # CDC call for the deletable entities (nothing changed there: their deletes fit one answer)
    assert manifest.api_calls == 3
    assert differences(warehouse, books) == []


def test_deletes_a_capped_cdc_answer_cut_are_asked_for_again(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    """QBO puts a type's deletes after its updates, so the cap cuts deletes first; queries
    never return them. The deletable entities are asked again in answers under the cap."""
    sync()
    now = moment_after_everything(books)
    deleted = _delete_an_invoice(books, now)
    _touch(books, "Vendor", 6, now + timedelta(seconds=1), "AcctNum", "D")
    with _cdc_cap(server, 3) as cap:
        manifest = sync(cdc_max_objects=cap, batch_cdc=False)

    assert manifest.entities["Invoice"].mode == "fallback"
    assert manifest.entities["Invoice"].deleted >= 1
    assert is_deleted(warehouse, books.realm_id, "Invoice", deleted)
    assert differences(warehouse, books) == []


def test_an_entity_filling_a_cdc_answer_alone_is_relisted_for_its_deletes(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    sync()
    now = moment_after_everything(books)
    deleted = _delete_an_invoice(books, now)
    _touch(books, "Invoice", 4, now + timedelta(seconds=1), "PrivateNote", "touched ")
    with _cdc_cap(server, 3) as cap:  # more invoice updates than the cap
        manifest = sync(cdc_max_objects=cap, batch_cdc=False)

    invoice = manifest.entities["Invoice"]
    assert invoice.mode == "fallback" and invoice.live_ids is not None  # listed in full
    assert deleted not in invoice.live_ids
    assert is_deleted(warehouse, books.realm_id, "Invoice", deleted)
    assert differences(warehouse, books) == []


def test_a_fallback_longer_than_a_page_is_paged_and_checked(
    sync: Callable[..., ExtractManifest],
    server: EmulatorServer,
    books: Books,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync()
    now = moment_after_everything(books)
    # pages of 5: the Vendor fallback's batch page is full, so it pages on
    _touch(books, "Vendor", 12, now, "AcctNum", "B")
    monkeypatch.setattr(extract_module, "PAGE_SIZE", 5)
    with _cdc_cap(server, 3) as cap:
        manifest = sync(cdc_max_objects=cap, batch_cdc=False)

    assert manifest.entities["Vendor"].mode == "fallback"
    assert manifest.entities["Vendor"].rows >= 12
    # CDC, the batch, then for Vendor: a count, pages 1-3 (page 3 holds the last 2), a count
    assert manifest.api_calls >= 2 + 5
    assert differences(warehouse, books) == []


def test_cursor_past_the_cdc_window_rebaselines_and_tombstones_hard_deletes(
    sync: Callable[..., ExtractManifest], server: EmulatorServer, books: Books, warehouse: Warehouse
) -> None:
    sync()
    customer = next(c for c in books.objects["Customer"].values() if c.get("Active", True))
    item = next(i for i in books.objects["Item"].values() if i.get("Type") == "Service")
    detail = {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 40}
    line = {"Amount": 40, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    receipt = books.create(
        "SalesReceipt", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    )
    sync()
    assert not is_deleted(warehouse, books.realm_id, "SalesReceipt", receipt["Id"])
    books.delete("SalesReceipt", {"Id": receipt["Id"], "SyncToken": receipt["SyncToken"]})

    server.emulator.clock.advance(timedelta(days=31).total_seconds())
    manifest = sync()

    assert manifest.mode == "full"
    assert manifest.entities["SalesReceipt"].mode == "full"
    assert is_deleted(warehouse, books.realm_id, "SalesReceipt", receipt["Id"])
    assert differences(warehouse, books) == []
    assert sync().mode == "cdc"  # the re-baseline moved the cursors back inside the window


def test_crash_between_extract_and_load_loses_and_doubles_nothing(
    sync: Callable[..., ExtractManifest],
    server: EmulatorServer,
    books: Books,
    warehouse: Warehouse,
    tmp_path: Path,
) -> None:
    sync()
    before = cursor(warehouse, books.realm_id, "Invoice")
    change_the_books(books, moment_after_everything(books))
    sync(load=False)  # "killed" before its load
    assert cursor(warehouse, books.realm_id, "Invoice") == before
    sync(load=False)  # the re-run extracts again from the old cursor, then loads both
    result = load_realm(warehouse, tmp_path / "landing", books.realm_id)

    assert result.manifests == 2 and result.cursors_advanced
    assert differences(warehouse, books) == []
    assert cursor(warehouse, books.realm_id, "Invoice") > before
    assert read_manifests(tmp_path / "landing", books.realm_id) == []
    assert pending_batches(tmp_path / "landing", warehouse, books.realm_id) == []
    again = load_realm(warehouse, tmp_path / "landing", books.realm_id)
    assert again.manifests == 0 and not again.cursors_advanced


def test_crash_mid_extract_merges_its_batches_without_moving_cursors(
    sync: Callable[..., ExtractManifest],
    books: Books,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_page = extract_module._Api.page
    calls = {"n": 0}

    def failing_page(self: object, query: object, start: int) -> object:
        calls["n"] += 1
        if calls["n"] > 10:
            raise ConnectionError("injected: the run dies mid-extract")
        return real_page(self, query, start)  # type: ignore[arg-type]

    monkeypatch.setattr(extract_module._Api, "page", failing_page)
    with pytest.raises(ConnectionError):
        sync(load=False)
    monkeypatch.setattr(extract_module._Api, "page", real_page)
    landed = pending_batches(tmp_path / "landing", warehouse, books.realm_id)
    assert landed and read_manifests(tmp_path / "landing", books.realm_id) == []

    result = load_realm(warehouse, tmp_path / "landing", books.realm_id)
    assert not result.cursors_advanced and sum(result.rows_by_entity.values()) > 0
    assert cursor(warehouse, books.realm_id, "Invoice") is None
    assert sync().mode == "full"  # no cursor moved: the re-run lists everything again
    assert differences(warehouse, books) == []


@pytest.mark.parametrize("merge_early", [False, True], ids=["load-merges", "merged-early"])
def test_long_listings_page_in_parallel_and_redo_a_listing_that_shifted(
    merge_early: bool,
    sync: Callable[..., ExtractManifest],
    books: Books,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pages of 5 rows make every list 'long'; a delete during Invoice's first listing shifts
    its pages (offset paging would skip a row), so that listing is checked, redone, complete.
    Merged early, the first attempt's rows (the deleted invoice among them) reach raw before
    the load, and the load's re-baseline tombstones what the complete listing lacks."""
    monkeypatch.setattr(extract_module, "PAGE_SIZE", 5)
    monkeypatch.setattr(extract_module, "EARLY_MERGE_ROWS", 10)
    monkeypatch.setenv("QB_MERGE_EARLY", "1" if merge_early else "0")
    real_page = extract_module._Api.page
    victim = next(iter(books.objects["Invoice"].values()))
    deleted: list[str] = []

    def page_then_delete(self: object, query: object, start: int) -> object:
        answer = real_page(self, query, start)  # type: ignore[arg-type]
        if getattr(query, "entity", "") == "Invoice" and start == 6 and not deleted:
            deleted.append(victim["Id"])
            books.delete("Invoice", {"Id": victim["Id"], "SyncToken": victim["SyncToken"]})
        return answer

    monkeypatch.setattr(extract_module._Api, "page", page_then_delete)
    manifest = sync()

    assert ("Invoice" in manifest.merged_early) == merge_early
    assert deleted and "Invoice changed while listed" in caplog.text
    assert manifest.api_calls > 3 * len(SYNC_ENTITIES)  # counts and many pages
    assert [d for d in differences(warehouse, books) if d.startswith("Invoice")] == []
    # The delete also moved account and customer balances after their listings began: the
    # cursor (listing start minus the overlap) makes the next run pick those up.
    assert sync().mode == "cdc"
    assert differences(warehouse, books) == []


def test_a_first_sync_merges_long_listings_while_it_extracts(
    sync: Callable[..., ExtractManifest],
    books: Books,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lists of 10 rows or more are merged as they complete; the cursors wait for the load."""
    monkeypatch.setattr(extract_module, "PAGE_SIZE", 5)
    monkeypatch.setattr(extract_module, "EARLY_MERGE_ROWS", 10)
    manifest = sync(load=False)

    long = {name for name, e in manifest.entities.items() if e.rows >= 10}  # landed rows
    assert "Invoice" in long and set(manifest.merged_early) == long
    assert manifest.merged_early["Invoice"] == manifest.entities["Invoice"].rows  # all it read
    with warehouse.connect(read_only=True) as con:
        stored = con.execute(
            f"SELECT count(*) FROM {raw_table('Invoice')} WHERE realm_id = ?", [books.realm_id]
        ).fetchone()
    assert stored == (len(books.objects["Invoice"]),)
    assert cursor(warehouse, books.realm_id, "Invoice") is None  # only the load moves it
    left = {b.entity for b in pending_batches(tmp_path / "landing", warehouse, books.realm_id)}
    assert left and not left & long  # the short lists wait for the load

    result = load_realm(warehouse, tmp_path / "landing", books.realm_id)
    assert result.cursors_advanced and result.rows_merged_early == manifest.merged_early
    assert "Invoice" not in result.rows_by_entity  # nothing of it was left to merge
    assert differences(warehouse, books) == []

    change_the_books(books, moment_after_everything(books))
    assert sync().merged_early == {}  # an incremental sync has no listing to merge early
    assert differences(warehouse, books) == []


def test_a_first_sync_leaves_everything_to_the_load_while_the_warehouse_is_busy(
    sync: Callable[..., ExtractManifest],
    books: Books,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader holding the warehouse (here in this process) keeps early merges out: they
    never wait for it, and the load merges all."""
    monkeypatch.setattr(extract_module, "PAGE_SIZE", 5)
    monkeypatch.setattr(extract_module, "EARLY_MERGE_ROWS", 10)
    warehouse.ensure_schema()
    with warehouse.connect(read_only=True):
        manifest = sync(load=False)
    assert manifest.merged_early == {}

    sync()
    assert differences(warehouse, books) == []

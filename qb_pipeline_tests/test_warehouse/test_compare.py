"""The comparison helper: silent on a faithful load, and it names every kind of difference.

Real: an emulator company landed and merged into a real warehouse file; each difference is made
by changing the warehouse (or the source) the way a bug would. Faked: nothing.
"""

from __future__ import annotations

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import Difference, Warehouse, compare_raw_with_objects, merge
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    land_changes,
    land_full,
    moment_after_everything,
    snapshot_objects,
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Books, Warehouse]:
    """A tiny company with one deleted invoice, fully merged (treat as read-only)."""
    books = Emulator().create_realm(size="tiny", seed=5)
    root = tmp_path_factory.mktemp("compare")
    warehouse = Warehouse(root / "warehouse.duckdb")
    at = moment_after_everything(books)
    invoice = next(iter(books.objects["Invoice"].values()))
    books.delete("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, at=at)
    merge(
        warehouse, books.realm_id, land_full(books, root) + land_changes(books, root, at), {}, "x"
    )
    return books, warehouse


def compare(
    warehouse: Warehouse, books: Books, objects: dict, tombstones: dict
) -> list[Difference]:
    return compare_raw_with_objects(warehouse, books.realm_id, objects, tombstones)


def test_a_faithful_load_has_no_difference(loaded: tuple[Books, Warehouse]) -> None:
    books, warehouse = loaded
    assert compare(warehouse, books, books.objects, books.tombstones) == []
    assert compare(warehouse, books, {}, {}) == []  # nothing named, nothing compared


def test_every_kind_of_difference_is_reported(loaded: tuple[Books, Warehouse]) -> None:
    books, warehouse = loaded
    source = snapshot_objects(books)
    tombstones = {entity: dict(by_id) for entity, by_id in books.tombstones.items()}
    customers = list(source["Customer"])
    vendor_id = next(iter(source["Vendor"]))
    item_id = next(iter(source["Item"]))
    deleted_invoice = max(tombstones["Invoice"], key=lambda i: tombstones["Invoice"][i][0])
    live_invoice = next(iter(source["Invoice"]))

    source["Customer"]["424242"] = source["Customer"][customers[0]] | {"Id": "424242"}
    del source["Customer"][customers[1]]
    source["Vendor"][vendor_id]["SyncToken"] = "99"
    source["Item"][item_id]["Name"] = "Renamed upstream"
    source["Invoice"][deleted_invoice] = {"Id": deleted_invoice, "SyncToken": "0"}
    del tombstones["Invoice"][deleted_invoice]
    tombstones["Invoice"][live_invoice] = (0.0, "2026-01-01T00:00:00-08:00")
    del source["Invoice"][live_invoice]

    found = {(d.entity, d.id, d.kind) for d in compare(warehouse, books, source, tombstones)}
    assert found == {
        ("Customer", "424242", "missing"),
        ("Customer", customers[1], "unexpected"),
        ("Vendor", vendor_id, "sync_token"),
        ("Vendor", vendor_id, "payload"),  # the SyncToken is in the payload too
        ("Item", item_id, "payload"),
        ("Invoice", deleted_invoice, "deleted"),
        ("Invoice", live_invoice, "not_deleted"),
    }


def test_a_payload_difference_points_at_the_field(loaded: tuple[Books, Warehouse]) -> None:
    books, warehouse = loaded
    source = snapshot_objects(books)
    account_id = next(iter(source["Account"]))
    source["Account"][account_id]["CurrentBalance"] = 123.45
    (difference,) = compare(warehouse, books, {"Account": source["Account"]}, {})
    assert difference.kind == "payload"
    assert difference.detail.startswith("CurrentBalance:") and "123.45" in difference.detail
    assert str(difference).startswith(f"Account {account_id}: payload CurrentBalance")

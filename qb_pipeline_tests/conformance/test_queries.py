"""python-quickbooks' read side (ListMixin, ReadMixin) against the emulator, unchanged.

Real: ``Customer.all/filter/where/query/count/choose`` and ``Item.all`` send the SQL they send
to QBO (POST /query, ``application/text``); paging with STARTPOSITION/MAXRESULTS; the
apostrophe escaped as ``\\'`` by ``build_where_clause``; inactive rows hidden unless
``Active`` is in the WHERE; ``Customer.get`` by id; 610 as ``ObjectNotFoundException``.
Faked: the customers are seeded through the in-process back door (``Books.create``).
"""

from __future__ import annotations

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import ObjectNotFoundException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item

from qb_pipeline.emulator.books import Books

NAMES = [
    "Amy's Bird Sanctuary",
    "Bill's Windsurf Shop",
    "Cool Cars",
    "Diego Rodriguez",
    "Freeman Sporting Goods",
]


@pytest.fixture
def customers(books: Books) -> dict[str, str]:
    """Five customers; DisplayName -> Id."""
    created = {}
    for name in NAMES:
        created[name] = books.create(
            "Customer", {"DisplayName": name, "CompanyName": name.upper()}
        )["Id"]
    return created


def test_all_and_count(qb: QuickBooks, books: Books, customers: dict[str, str]) -> None:
    rows = Customer.all(qb=qb)
    assert [c.DisplayName for c in rows] == NAMES  # default order: FullyQualifiedName
    assert [c.Id for c in rows] == [customers[n] for n in NAMES]
    assert Customer.count(qb=qb) == 5 == len(books.objects["Customer"])
    assert Customer.count("DisplayName LIKE 'C%'", qb=qb) == 1
    assert isinstance(rows[0], Customer)
    assert rows[0].SyncToken == "0"
    assert rows[0].MetaData == books.objects["Customer"][rows[0].Id]["MetaData"]


def test_filter_with_apostrophe(qb: QuickBooks, customers: dict[str, str]) -> None:
    found = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)
    assert [(c.Id, c.DisplayName) for c in found] == [
        (customers["Amy's Bird Sanctuary"], "Amy's Bird Sanctuary")
    ]
    assert Customer.filter(DisplayName="Amy's Bird", qb=qb) == []
    both = Customer.filter(DisplayName="Cool Cars", CompanyName="COOL CARS", qb=qb)
    assert [c.Id for c in both] == [customers["Cool Cars"]]


def test_where_query_and_choose(qb: QuickBooks, customers: dict[str, str]) -> None:
    rows = Customer.where("DisplayName LIKE '%o%'", order_by="DisplayName DESC", qb=qb)
    assert [c.DisplayName for c in rows] == [
        "Freeman Sporting Goods",
        "Diego Rodriguez",
        "Cool Cars",
        "Bill's Windsurf Shop",
    ]
    picked = Customer.query(
        "SELECT * FROM Customer WHERE Id IN ('{}', '{}') ORDERBY Id".format(
            customers["Cool Cars"], customers["Diego Rodriguez"]
        ),
        qb=qb,
    )
    assert [c.DisplayName for c in picked] == ["Cool Cars", "Diego Rodriguez"]
    chosen = Customer.choose([customers["Freeman Sporting Goods"]], qb=qb)
    assert [c.DisplayName for c in chosen] == ["Freeman Sporting Goods"]
    assert Customer.where("DisplayName = 'Nobody'", qb=qb) == []


def test_paging(qb: QuickBooks, customers: dict[str, str]) -> None:
    pages = [Customer.all(start_position=start, max_results=2, qb=qb) for start in (1, 3, 5, 7)]
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert [c.DisplayName for page in pages for c in page] == NAMES
    raw = qb.query("SELECT * FROM Customer STARTPOSITION 5 MAXRESULTS 2")
    assert raw["QueryResponse"]["startPosition"] == 5
    assert raw["QueryResponse"]["maxResults"] == 1  # rows actually returned
    assert qb.query("SELECT * FROM Customer STARTPOSITION 7")["QueryResponse"] == {}
    where_page = Customer.where("Active = true", start_position=2, max_results=3, qb=qb)
    assert [c.DisplayName for c in where_page] == NAMES[1:4]


def test_inactive_rows_hidden(qb: QuickBooks, books: Books, customers: dict[str, str]) -> None:
    cool = books.objects["Customer"][customers["Cool Cars"]]
    books.update(
        "Customer",
        {"Id": cool["Id"], "SyncToken": cool["SyncToken"], "sparse": True, "Active": False},
    )
    assert Customer.count(qb=qb) == 4
    assert "Cool Cars" not in [c.DisplayName for c in Customer.all(qb=qb)]
    inactive = Customer.filter(Active=False, qb=qb)
    assert [c.Id for c in inactive] == [customers["Cool Cars"]]
    assert inactive[0].DisplayName == "Cool Cars (deleted)"
    assert Customer.count("Active IN (true, false)", qb=qb) == 5


def test_get_by_id(qb: QuickBooks, books: Books, customers: dict[str, str]) -> None:
    customer = Customer.get(customers["Cool Cars"], qb=qb)
    stored = books.objects["Customer"][customers["Cool Cars"]]
    assert (customer.Id, customer.DisplayName, customer.CompanyName, customer.SyncToken) == (
        stored["Id"],
        "Cool Cars",
        "COOL CARS",
        "0",
    )
    assert customer.Balance == 0
    assert customer.CurrencyRef.value == "USD"
    raw = qb.get_single_object("Customer", customers["Cool Cars"])
    assert raw["Customer"] == stored
    with pytest.raises(ObjectNotFoundException) as missing:
        Customer.get("9999", qb=qb)
    assert missing.value.error_code == 610


def test_item_all_asks_for_sku(qb: QuickBooks, books: Books) -> None:
    books.create(
        "Item",
        {
            "Name": "Rock Fountain",
            "Type": "NonInventory",
            "Sku": "RF-1",
            "IncomeAccountRef": {"value": "3"},
            "UnitPrice": 275,
        },
    )
    items = Item.all(qb=qb)
    assert [(i.Name, getattr(i, "Sku", None)) for i in items] == [
        ("Rock Fountain", "RF-1"),
        ("Services", None),
    ]
    assert items[0].UnitPrice == 275
    assert Item.filter(Sku="RF-1", qb=qb)[0].Id == items[0].Id
    assert len(books.objects["Item"]) == 2


def test_bad_query_is_a_validation_exception(qb: QuickBooks) -> None:
    with pytest.raises(ValidationException) as bad:
        Customer.where("DisplayName = 'x' OR Id = '1'", qb=qb)
    assert bad.value.error_code == 4000
    with pytest.raises(ValidationException) as unknown:
        qb.query("SELECT * FROM Custmoer")
    assert unknown.value.error_code == 4001

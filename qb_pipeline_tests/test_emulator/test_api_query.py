"""/query over real HTTP: GET and POST, the QueryResponse envelope, paging, faults.

Real (API_FACTS 1.13, 2): ``GET /query?query=`` and ``POST /query`` with a raw
``application/text`` body; ``{}`` with no startPosition/maxResults when nothing matches;
maxResults = rows returned; only totalCount for COUNT(*); STARTPOSITION 0 read as 1; 4000 for
syntax errors; 4001 for an unknown entity and MAXRESULTS 0; name lists ordered by
FullyQualifiedName in byte order, transactions newest first. Faked (UNCERTAIN upstream):
MAXRESULTS above 1000 is clamped to 1000; ties in the default order are broken by Id.
"""

from __future__ import annotations

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, assert_fault, sales_line

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def test_get_and_post_answer_the_same(realm: Realm) -> None:
    realm.customer("Amy's Bird Sanctuary")
    realm.customer("Bill's Windsurf Shop")
    text = "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'"
    got = realm.client.get("/query", params={"query": text})
    posted = realm.client.post("/query", content=text, headers={"Content-Type": "application/text"})
    assert got.status_code == posted.status_code == 200
    get_body, post_body = got.json()["QueryResponse"], posted.json()["QueryResponse"]
    assert get_body == post_body
    assert set(get_body) == {"Customer", "startPosition", "maxResults"}
    assert get_body["startPosition"] == 1 and get_body["maxResults"] == 1
    assert get_body["Customer"][0]["DisplayName"] == "Amy's Bird Sanctuary"


def test_empty_result_has_no_paging_fields(realm: Realm) -> None:
    resp = realm.client.get("/query", params={"query": "SELECT * FROM Invoice"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["QueryResponse"] == {} and set(body) == {"QueryResponse", "time"}
    assert realm.query("SELECT * FROM Customer WHERE DisplayName = 'nobody'") == {}


def test_count_returns_only_total_count(realm: Realm) -> None:
    for name in ("A", "B", "C"):
        realm.customer(name)
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 3}
    assert realm.query("select count(*) from Customer STARTPOSITION 2 MAXRESULTS 1") == {
        "totalCount": 3
    }
    assert realm.query("SELECT COUNT(*) FROM Invoice ") == {"totalCount": 0}


def test_max_results_is_rows_returned_and_start_position_zero_is_one(realm: Realm) -> None:
    for number in range(7):
        realm.customer(f"Vendor-like {number}")
    last = realm.query("SELECT * FROM Customer MAXRESULTS 5 STARTPOSITION 6")
    assert last["startPosition"] == 6 and last["maxResults"] == 2 and len(last["Customer"]) == 2
    zero = realm.query("SELECT * FROM Customer STARTPOSITION 0 MAXRESULTS 3")
    one = realm.query("SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 3")
    assert zero["startPosition"] == 1 and zero == one
    assert realm.query("SELECT * FROM Customer STARTPOSITION 8") == {}


def test_max_results_over_1000_is_clamped(realm: Realm) -> None:
    for number in range(1005):
        realm.books.create("Customer", {"DisplayName": f"Bulk {number:04d}"})
    page = realm.query("SELECT * FROM Customer MAXRESULTS 5000")
    assert page["maxResults"] == 1000 and len(page["Customer"]) == 1000
    assert realm.query("SELECT * FROM Customer")["maxResults"] == 100  # default page size


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM",
        "SELECT FROM Customer",
        "SELECT * FROM Customer WHERE",
        "SELECT * FROM Customer WHERE DisplayName = 'a' OR Id = '1'",
        "SELECT * FROM Customer WHERE DisplayName = 'open",
        "SELECT * FROM Customer WHERE DisplayName % 'x'",
        "DELETE FROM Customer",
        "SELECT * FROM Customer MAXRESULTS ten",
    ],
)
def test_syntax_errors_are_4000(realm: Realm, text: str) -> None:
    error = assert_fault(realm.client.get("/query", params={"query": text}), 400, "4000")
    assert error["Message"] == "Error parsing query"
    assert error["Detail"].startswith("QueryParserError: ")


def test_empty_query_is_4000(realm: Realm) -> None:
    assert_fault(realm.client.get("/query"), 400, "4000")
    assert_fault(
        realm.client.post("/query", content=b"", headers={"Content-Type": "application/text"}),
        400,
        "4000",
    )


def test_unknown_entity_is_4001(realm: Realm) -> None:
    error = assert_fault(
        realm.client.get("/query", params={"query": "SELECT * FROM Custmoer"}), 400, "4001"
    )
    assert error["Message"] == "Invalid query"
    assert error["Detail"] == "QueryValidationError: invalid context declaration: Custmoer"


def test_max_results_zero_is_4001(realm: Realm) -> None:
    resp = realm.client.get("/query", params={"query": "SELECT * FROM Customer MAXRESULTS 0"})
    error = assert_fault(resp, 400, "4001")
    assert "value 0 is too small. Min allowed value is 1" in error["Detail"]


def test_name_lists_default_to_fully_qualified_name_byte_order(realm: Realm) -> None:
    for name in ("Pam Seitz", "PG&E", "amy", "Freeman Sporting Goods", "Zed"):
        realm.customer(name)
    parent = realm.books.find("Customer", "DisplayName", "Freeman Sporting Goods")
    realm.customer("0969 Ocean View Road", ParentRef={"value": parent["Id"]})
    names = [c["FullyQualifiedName"] for c in realm.query("SELECT * FROM Customer")["Customer"]]
    assert names == [
        "Freeman Sporting Goods",
        "Freeman Sporting Goods:0969 Ocean View Road",
        "PG&E",
        "Pam Seitz",
        "Zed",
        "amy",
    ]


def test_transactions_default_to_newest_first(realm: Realm, emulator: Emulator) -> None:
    customer = realm.customer("Orderly")
    ids = []
    for amount in (10, 20, 30):
        ids.append(realm.invoice(customer["Id"], amount)["Id"])
        emulator.clock.advance(2)
    realm.update(
        "Invoice", {"Id": ids[0], "SyncToken": "0", "sparse": True, "PrivateNote": "touched"}
    )
    rows = realm.query("SELECT * FROM Invoice")["Invoice"]
    assert [row["Id"] for row in rows] == [ids[0], ids[2], ids[1]]
    by_total = realm.query("SELECT * FROM Invoice ORDERBY TotalAmt DESC")["Invoice"]
    assert [row["TotalAmt"] for row in by_total] == [30, 20, 10]


def test_where_operators_and_case_insensitive_fields(realm: Realm) -> None:
    customer = realm.customer("Filter Co")
    for amount in (100, 250, 400):
        realm.invoice(customer["Id"], amount)
    rows = realm.query(
        "select * from invoice where TotalAmt > '150.00' and metadata.lastupdatedtime "
        "> '2000-01-01T00:00:00Z' orderby totalamt"
    )["Invoice"]
    assert [row["TotalAmt"] for row in rows] == [250, 400]
    like = realm.query("SELECT * FROM Customer WHERE DisplayName LIKE 'Filt%'")
    assert like["maxResults"] == 1
    in_list = realm.query(
        "SELECT COUNT(*) FROM Invoice WHERE DocNumber IN ('1001', '1003', '9999')"
    )
    assert in_list == {"totalCount": 2}


def test_paging_thousands_of_rows_returns_each_exactly_once(realm: Realm) -> None:
    for number in range(2600):
        realm.books.create("Customer", {"DisplayName": f"Pager {number:05d}"})
    customer_id = realm.books.find("Customer", "DisplayName", "Pager 00000")["Id"]
    for _ in range(1200):
        realm.books.create(
            "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [sales_line(1)]}
        )
    for entity, total in (("Customer", 2600), ("Invoice", 1200)):
        seen: list[str] = []
        position = 1
        while True:
            page = realm.query(f"SELECT * FROM {entity} STARTPOSITION {position} MAXRESULTS 1000")
            if not page:
                break
            assert page["startPosition"] == position and page["maxResults"] == len(page[entity])
            seen += [row["Id"] for row in page[entity]]
            position += page["maxResults"]
        assert len(seen) == total and len(set(seen)) == total

"""Unit tests of the query builder and pager (no network).

Quoting is checked two ways: by property (hypothesis) against QBO's rule (only ' is escaped,
as \\'), and by reading the built text back with the emulator's QBO query parser, which
follows QBO's lexer (tests may import the emulator; the client never does)."""

from __future__ import annotations

import doctest
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qb_pipeline.emulator.query_parser import Literal, parse_query
from qb_pipeline.qbo import query as query_module
from qb_pipeline.qbo.entities import UnknownEntityError
from qb_pipeline.qbo.query import (
    QueryValueError,
    cdc_result,
    entity_of,
    page_sql,
    paginate,
    quote,
    select,
)

# Any text QBO can take: no trailing backslash, no surrogates or NUL (not valid in a URL/JSON).
QBO_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
VALID_TEXT = QBO_TEXT.filter(lambda s: not s.endswith("\\"))


def unquote(literal: str) -> str:
    assert literal.startswith("'") and literal.endswith("'")
    return literal[1:-1].replace("\\'", "'")


@given(VALID_TEXT)
def test_quote_escapes_only_apostrophes(value: str) -> None:
    literal = quote(value)
    assert unquote(literal) == value
    body = literal[1:-1]
    # every apostrophe inside is escaped, and nothing else was added
    assert re.search(r"(?<!\\)'", body) is None
    assert len(body) == len(value) + value.count("'")


@given(VALID_TEXT)
def test_qbos_parser_reads_back_exactly_the_value(value: str) -> None:
    text = select("Customer").where("DisplayName", "=", value).page(1, 10)
    parsed = parse_query(text)
    assert parsed.conditions[0].value == Literal("string", value)
    assert parsed.entity == "Customer" and parsed.mentions_active


@given(QBO_TEXT.map(lambda s: s + "\\"))
def test_a_trailing_backslash_is_refused_clearly(value: str) -> None:
    with pytest.raises(QueryValueError, match="ending in a backslash"):
        quote(value)


def test_literals_of_other_types() -> None:
    assert quote("Amy's Bird Sanctuary") == "'Amy\\'s Bird Sanctuary'"
    assert quote(False) == "false"
    assert quote(3) == "3"
    assert quote(Decimal("300.00")) == "300.00"
    assert quote(date(2025, 1, 31)) == "'2025-01-31'"
    stamp = datetime(2025, 1, 31, 8, 0, tzinfo=UTC)
    assert quote(stamp) == "'2025-01-31T08:00:00+00:00'"
    with pytest.raises(QueryValueError, match="time zone"):
        quote(datetime(2025, 1, 31))
    with pytest.raises(QueryValueError, match="cannot quote"):
        quote(["a"])  # type: ignore[arg-type]


def test_name_lists_include_inactive_rows_unless_active_is_filtered() -> None:
    assert select("Customer").sql == "SELECT * FROM Customer WHERE Active IN (true, false)"
    active = select("customer").where("Active", "=", True)
    assert active.sql == "SELECT * FROM Customer WHERE Active = true"
    assert select("Vendor", include_inactive=False).sql == "SELECT * FROM Vendor"
    assert select("Invoice").sql == "SELECT * FROM Invoice"  # transactions have no Active


def test_builder_renders_what_qbo_and_the_parser_accept() -> None:
    since = datetime(2025, 3, 1, tzinfo=UTC)
    built = (
        select("Invoice")
        .where("MetaData.LastUpdatedTime", ">=", since)
        .where("TotalAmt", ">", Decimal("300.00"))
        .where_in("Id", ["5", "6"])
        .where("DocNumber", "like", "10%")
        .order_by("MetaData.LastUpdatedTime")
        .order_by("Id", descending=True)
    )
    assert built.sql == (
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-03-01T00:00:00+00:00'"
        " AND TotalAmt > 300.00 AND Id IN ('5', '6') AND DocNumber LIKE '10%'"
        " ORDERBY MetaData.LastUpdatedTime ASC, Id DESC"
    )
    parsed = parse_query(built.page(1001, 1000))
    assert (parsed.start_position, parsed.max_results) == (1001, 1000)
    assert len(parsed.conditions) == 4 and len(parsed.order_by) == 2
    count = parse_query(built.count_sql)
    assert count.count and len(count.conditions) == 4


@pytest.mark.parametrize(
    ("field", "op"),
    [
        ("DisplayName = 'x' OR 1", "="),
        ("Name;", "="),
        ("", "="),
        ("Name", "!="),
        ("Name", "OR"),
    ],
)
def test_fields_and_operators_cannot_inject(field: str, op: str) -> None:
    with pytest.raises(QueryValueError):
        select("Customer").where(field, op, "x")


def test_unknown_entities_and_empty_in_lists() -> None:
    with pytest.raises(UnknownEntityError, match="Custmoer"):
        select("Custmoer")
    with pytest.raises(QueryValueError, match="empty"):
        select("Item").where_in("Id", [])


def test_page_sql_bounds() -> None:
    assert page_sql("SELECT * FROM Item", 1, 1000).endswith("STARTPOSITION 1 MAXRESULTS 1000")
    with pytest.raises(QueryValueError, match="MAXRESULTS"):
        page_sql("SELECT * FROM Item", 1, 1001)
    with pytest.raises(QueryValueError, match="1-based"):
        page_sql("SELECT * FROM Item", 0, 10)
    with pytest.raises(QueryValueError, match="already pages"):
        page_sql("SELECT * FROM Item MAXRESULTS 5", 1, 10)
    named = "SELECT * FROM Item WHERE Name = 'MAXRESULTS 5'"  # inside a literal: fine
    assert page_sql(named, 1, 10).endswith("MAXRESULTS 10")


def test_entity_of_raw_text() -> None:
    assert entity_of("select * from salesreceipt where TotalAmt > '1'") == "SalesReceipt"
    with pytest.raises(QueryValueError, match="FROM"):
        entity_of("SELECT 1")


class FakeQBO:
    """Answers page queries over ``rows`` the way QBO shapes a QueryResponse."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows, self.texts = rows, []

    def __call__(self, text: str) -> dict[str, Any]:
        self.texts.append(text)
        found = re.search(r"STARTPOSITION (\d+) MAXRESULTS (\d+)$", text)
        assert found, text
        start, size = int(found.group(1)), int(found.group(2))
        page = self.rows[start - 1 : start - 1 + size]
        if not page:
            return {}
        return {"Invoice": page, "startPosition": start, "maxResults": len(page)}


@given(total=st.integers(0, 2600), page_size=st.integers(3, 1000))
def test_pager_yields_every_row_once(total: int, page_size: int) -> None:
    fake = FakeQBO([{"Id": str(i)} for i in range(1, total + 1)])
    pages = list(paginate(fake, select("Invoice").order_by("Id"), page_size=page_size))
    ids = [row["Id"] for page in pages for row in page.rows]
    assert ids == [str(i) for i in range(1, total + 1)]
    assert all(len(page.rows) <= page_size for page in pages)
    assert [p.start_position for p in pages] == list(range(1, total + 1, page_size))[: len(pages)]
    # one request per page, plus one empty answer when the last page happened to be full
    assert len(fake.texts) == total // page_size + 1


@given(
    total=st.integers(0, 500),
    start=st.integers(1, 600),
    max_rows=st.integers(0, 300),
    page_size=st.integers(1, 100),
)
def test_pager_window(total: int, start: int, max_rows: int, page_size: int) -> None:
    fake = FakeQBO([{"Id": str(i)} for i in range(1, total + 1)])
    pages = paginate(
        fake, "SELECT * FROM Invoice", page_size=page_size, start_position=start, max_rows=max_rows
    )
    ids = [int(row["Id"]) for page in pages for row in page.rows]
    assert ids == list(range(start, min(total, start + max_rows - 1) + 1))


def test_worked_examples_in_docstrings_run() -> None:
    failures, tried = doctest.testmod(query_module)
    assert tried >= 3 and failures == 0


def test_cdc_result_splits_changes_and_deletes() -> None:
    body = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Invoice": [{"Id": "1", "SyncToken": "2"}, {"Id": "9", "status": "Deleted"}]},
                    {},
                    {"Customer": [{"Id": "3"}], "startPosition": 1, "maxResults": 1},
                ]
            }
        ]
    }
    result = cdc_result(body, ["Invoice", "Customer", "Item"])
    assert [r["Id"] for r in result.changed["Invoice"]] == ["1"]
    assert result.deleted == {"Invoice": ("9",), "Customer": (), "Item": ()}
    assert result.changed["Item"] == () and result.total == 3 and not result.capped


def test_pager_orders_an_unordered_query_by_id() -> None:
    fake = FakeQBO([{"Id": "1"}])
    list(paginate(fake, select("Invoice")))
    list(paginate(fake, select("Invoice").order_by("TxnDate")))
    assert fake.texts[0].startswith("SELECT * FROM Invoice ORDERBY Id ASC STARTPOSITION 1")
    assert "ORDERBY TxnDate ASC STARTPOSITION" in fake.texts[1]

"""The emulator's QBO query evaluation: filtering, ordering, name-list rules, paging.

Real: the rows are shaped like recorded QBO objects (Airbyte's sandbox records, qbo_api
cassettes: "PG&E" before "Pam Seitz", a sub-customer right after its parent) and the queries
like real clients' (API_FACTS 2.1). Faked: nothing; pure unit and property tests, no HTTP.
The grammar and its error codes are tested in test_query_parser.py.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from qb_pipeline.emulator.clock import COMPANY_TZ, meta_time, parse_qbo_datetime
from qb_pipeline.emulator.query import (
    Literal,
    page_rows,
    parse_query,
    select_rows,
)


def _customer(cid: str, name: str, *, active: bool = True, updated: str = "", **extra) -> dict:
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": cid,
        "SyncToken": "0",
        "MetaData": {
            "CreateTime": "2023-02-10T14:42:07-08:00",
            "LastUpdatedTime": updated or "2023-02-18T12:57:24-08:00",
        },
        "DisplayName": name,
        "FullyQualifiedName": name,
        "Active": active,
        "Balance": 0,
        **extra,
    }


def _invoice(iid: str, updated: str, total: float, customer: str = "1", **extra) -> dict:
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": iid,
        "SyncToken": "0",
        "MetaData": {"CreateTime": updated, "LastUpdatedTime": updated},
        "DocNumber": str(1000 + int(iid)),
        "TxnDate": updated[:10],
        "CustomerRef": {"value": customer, "name": f"Customer {customer}"},
        "Line": [{"Id": "1", "Amount": total, "DetailType": "SalesItemLineDetail"}],
        "TotalAmt": total,
        "Balance": total,
        **extra,
    }


CUSTOMERS = [
    _customer("58", "Pam Seitz", PrimaryEmailAddr={"Address": "SeitzCPA@intuit.com"}),
    _customer("9", "PG&E"),
    _customer("5", "Amy's Bird Sanctuary"),
    _customer("17", "Mark Cho", Balance=314.28),
    _customer("8", "Freeman Sporting Goods"),
    _customer("60", "Inactive Ida (deleted)", active=False),
    _customer("61", "Freeman Sporting Goods:0969 Ocean View Road", ParentRef={"value": "8"}),
    _customer("62", "Freeman Sporting Goods", active=False, updated="2023-02-19T09:00:00-08:00"),
]
CUSTOMERS[-1]["FullyQualifiedName"] = "Freeman Sporting Goods (deleted)"

INVOICES = [
    _invoice("12", "2023-02-18T13:16:17-08:00", 314.28, "17"),
    _invoice("119", "2023-02-18T12:57:24-08:00", 362.07, "5"),
    _invoice("10", "2023-02-18T13:16:17-08:00", 50.0, "5"),
    _invoice("9", "2023-02-18T13:16:17-08:00", 300.0, "9"),
    # Fall back from PDT to PST: 01:30-07:00 (08:30Z) comes before 01:10-08:00 (09:10Z).
    _invoice("130", "2024-11-03T01:30:00-07:00", 10.0),
    _invoice("131", "2024-11-03T01:10:00-08:00", 20.0),
]


def _select(text: str, rows: list[dict], *, name_list: bool = False) -> list[dict]:
    query = parse_query(text)
    field = "DisplayName" if name_list else None
    return page_rows(query, select_rows(query, rows, name_list=name_list, name_field=field))


def _ids(rows: list[dict]) -> list[str]:
    return [row["Id"] for row in rows]


# --- evaluation -----------------------------------------------------------------------------


def test_names_match_case_insensitively_with_backslash_escape() -> None:
    text = "SELECT * FROM Customer WHERE DisplayName = 'AMY\\'S BIRD SANCTUARY'"
    assert _ids(_select(text, CUSTOMERS, name_list=True)) == ["5"]
    text = "SELECT * FROM Customer WHERE DisplayName IN ('pam seitz', 'pg&e', 'nobody')"
    assert _ids(_select(text, CUSTOMERS, name_list=True)) == ["9", "58"]


def test_field_names_are_case_insensitive_and_refs_compare_by_value() -> None:
    upper = "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2023-02-18T13:00:00-08:00'"
    lower = "SELECT * FROM Invoice WHERE metadata.lastupdatedtime > '2023-02-18T13:00:00-08:00'"
    assert _ids(_select(upper, INVOICES)) == _ids(_select(lower, INVOICES))
    assert sorted(_ids(_select(upper, INVOICES))) == ["10", "12", "130", "131", "9"]
    assert _ids(_select("SELECT * FROM Invoice WHERE CustomerRef = '5'", INVOICES)) == ["10", "119"]
    text = "SELECT * FROM Customer WHERE PrimaryEmailAddr = 'seitzcpa@intuit.com'"
    assert _ids(_select(text, CUSTOMERS, name_list=True)) == ["58"]
    assert _ids(_select("SELECT * FROM Customer WHERE ParentRef = '8'", CUSTOMERS)) == ["61"]


def test_amounts_compare_numerically_even_when_quoted() -> None:
    assert _ids(_select("SELECT * FROM Invoice WHERE TotalAmt > '300.00'", INVOICES)) == [
        "12",
        "119",
    ]
    assert _ids(_select("SELECT * FROM Invoice WHERE TotalAmt >= 300", INVOICES)) == [
        "9",
        "12",
        "119",
    ]
    assert _ids(_select("SELECT * FROM Invoice WHERE TotalAmt = '50'", INVOICES)) == ["10"]
    assert _select("SELECT * FROM Invoice WHERE TotalAmt > 'lots'", INVOICES) == []


def test_ids_compare_as_numbers() -> None:
    assert _ids(_select("SELECT * FROM Invoice WHERE Id > '9' ORDERBY Id", INVOICES)) == [
        "10",
        "12",
        "119",
        "130",
        "131",
    ]
    assert _ids(_select("SELECT * FROM Invoice WHERE Id = 12", INVOICES)) == ["12"]
    assert _ids(_select("SELECT * FROM Invoice WHERE Id IN ('009', '10')", INVOICES)) == ["9", "10"]


def test_datetimes_compare_as_instants_in_any_offset() -> None:
    # 2023-02-18T13:16:17-08:00 is 21:16:17Z; a literal without offset is company time.
    for literal in ("2023-02-18T21:16:17Z", "2023-02-18T13:16:17", "2023-02-18T22:16:17+01:00"):
        text = f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{literal}'"
        assert sorted(_ids(_select(text, INVOICES))) == ["10", "12", "9"], literal
        text = f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime < '{literal}'"
        assert _ids(_select(text, INVOICES)) == ["119"], literal
    # Across the fall-back hour the text order is wrong; the instant order is right.
    text = "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime < '2024-11-03T09:00:00Z'"
    assert "130" in _ids(_select(text, INVOICES)) and "131" not in _ids(_select(text, INVOICES))
    text = "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2024-11-03T01:20:00-07:00'"
    assert _ids(_select(text, INVOICES)) == ["131", "130"]


def test_dates_compare_as_dates() -> None:
    assert _ids(_select("SELECT * FROM Invoice WHERE TxnDate >= '2024-01-01'", INVOICES)) == [
        "131",
        "130",
    ]
    text = "SELECT * FROM Invoice WHERE TxnDate = '2023-02-18' ORDERBY Id"
    assert _ids(_select(text, INVOICES)) == ["9", "10", "12", "119"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Freeman%", ["8", "61"]),
        ("%sanctuary", ["5"]),
        ("%ir%", ["5"]),
        ("%E", ["9"]),
        ("pg&e", ["9"]),
        ("Amy_s%", []),  # only % is a wildcard; _ is literal
        ("%%", ["5", "8", "61", "17", "9", "58"]),
    ],
)
def test_like_supports_only_percent(pattern: str, expected: list[str]) -> None:
    text = f"SELECT * FROM Customer WHERE DisplayName LIKE '{pattern}'"
    assert _ids(_select(text, CUSTOMERS, name_list=True)) == expected


def test_missing_fields_never_match_and_never_raise() -> None:
    assert _select("SELECT * FROM Customer WHERE NoSuchField = 'x'", CUSTOMERS) == []
    assert (
        _select(
            "SELECT * FROM Customer WHERE ParentRef.value > '0' ORDER BY Nope",
            CUSTOMERS,
            name_list=True,
        )[0]["Id"]
        == "61"
    )
    assert _select("SELECT * FROM Invoice WHERE MetaData.Nope.Deeper = '1'", INVOICES) == []
    assert _select("SELECT * FROM Invoice WHERE CustomerRef.name.x = '1'", INVOICES) == []


def test_strings_order_by_code_point() -> None:
    text = "SELECT * FROM Customer WHERE DisplayName < 'P' ORDERBY DisplayName"
    assert _ids(_select(text, CUSTOMERS, name_list=True)) == ["5", "8", "61", "17"]


def test_name_lists_hide_inactive_unless_active_is_mentioned() -> None:
    visible = _select("SELECT * FROM Customer", CUSTOMERS, name_list=True)
    assert "60" not in _ids(visible) and len(visible) == 6
    everyone = _select(
        "SELECT * FROM Customer WHERE Active IN (true, false)", CUSTOMERS, name_list=True
    )
    assert len(everyone) == 8
    assert _ids(
        _select("SELECT * FROM Customer WHERE Active = false", CUSTOMERS, name_list=True)
    ) == ["62", "60"]
    assert len(_select("SELECT * FROM Customer", CUSTOMERS, name_list=False)) == 8


def test_default_order_of_name_lists_is_fully_qualified_name_bytes() -> None:
    names = [
        row["FullyQualifiedName"]
        for row in _select("SELECT * FROM Customer", CUSTOMERS, name_list=True)
    ]
    assert names == [
        "Amy's Bird Sanctuary",
        "Freeman Sporting Goods",
        "Freeman Sporting Goods:0969 Ocean View Road",
        "Mark Cho",
        "PG&E",
        "Pam Seitz",
    ]
    nameless = [{"Id": "2", "Name": "b"}, {"Id": "1", "Name": "B"}, {"Id": "3", "Name": "a"}]
    assert _ids(_select("SELECT * FROM Term", nameless, name_list=True)) == ["1", "3", "2"]


def test_default_order_of_transactions_is_newest_first_ties_by_numeric_id() -> None:
    assert _ids(_select("SELECT * FROM Invoice", INVOICES)) == [
        "131",
        "130",
        "9",
        "10",
        "12",
        "119",
    ]


def test_explicit_order_missing_first_then_ties_by_id() -> None:
    rows = [
        _invoice("3", "2023-01-01T00:00:00-08:00", 5.0),
        _invoice("2", "2023-01-02T00:00:00-08:00", 5.0),
        _invoice("1", "2023-01-03T00:00:00-08:00", 7.0),
    ]
    del rows[2]["TotalAmt"]
    assert _ids(_select("SELECT * FROM Invoice ORDER BY TotalAmt", rows)) == ["1", "2", "3"]
    assert _ids(_select("SELECT * FROM Invoice ORDER BY TotalAmt DESC", rows)) == ["1", "2", "3"]
    text = "SELECT * FROM Invoice ORDERBY TotalAmt DESC, MetaData.LastUpdatedTime DESC"
    assert _ids(_select(text, rows)) == ["1", "2", "3"]
    text = "SELECT * FROM Invoice ORDERBY Balance, MetaData.LastUpdatedTime"
    assert _ids(_select(text, rows)) == ["3", "2", "1"]


def test_count_ignores_paging_and_pages_cut_the_selection() -> None:
    query = parse_query(
        "SELECT COUNT(*) FROM Invoice WHERE TotalAmt > 0 STARTPOSITION 5 MAXRESULTS 1"
    )
    assert len(select_rows(query, INVOICES, name_list=False)) == 6
    query = parse_query("SELECT * FROM Invoice ORDERBY Id STARTPOSITION 2 MAXRESULTS 3")
    assert _ids(page_rows(query, select_rows(query, INVOICES, name_list=False))) == [
        "10",
        "12",
        "119",
    ]
    query = parse_query("SELECT * FROM Invoice STARTPOSITION 7")
    assert page_rows(query, select_rows(query, INVOICES, name_list=False)) == []


def test_select_rows_leaves_the_input_untouched() -> None:
    rows = list(INVOICES)
    select_rows(parse_query("SELECT * FROM Invoice ORDER BY TotalAmt"), rows, name_list=False)
    assert rows == INVOICES


# --- properties -----------------------------------------------------------------------------


def _quote(value: str) -> str:
    """python-quickbooks' quoting: only the apostrophe is escaped, with a backslash."""
    return "'" + value.replace("'", "\\'") + "'"


@given(st.text(max_size=40))
def test_any_quoted_string_matches_itself(value: str) -> None:
    assume(not value.endswith("\\"))  # a trailing backslash escapes the closing quote in QBO too
    query = parse_query(f"SELECT * FROM Customer WHERE DisplayName = {_quote(value)}")
    assert query.conditions[0].value == Literal("string", value)
    rows = [_customer("1", value), _customer("2", value + "x")]
    assert _ids(select_rows(query, rows, name_list=True)) == ["1"]


_STAMPS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
).map(lambda moment: meta_time(moment.replace(microsecond=0)))


@st.composite
def _invoice_rows(draw: st.DrawFn) -> list[dict]:
    stamps = draw(st.lists(_STAMPS, min_size=0, max_size=60))
    ids = draw(st.permutations(range(1, len(stamps) + 1)))
    amounts = draw(
        st.lists(st.sampled_from([0.0, 5.0, 12.5]), min_size=len(stamps), max_size=len(stamps))
    )
    return [_invoice(str(i), s, a) for i, s, a in zip(ids, stamps, amounts, strict=True)]


@settings(max_examples=60, deadline=None)
@given(
    _invoice_rows(),
    st.integers(1, 1000),
    st.sampled_from(
        [
            "",
            " WHERE TotalAmt > '1'",
            " ORDER BY TotalAmt DESC",
            " ORDERBY MetaData.LastUpdatedTime",
            " WHERE MetaData.LastUpdatedTime >= '2023-06-01T00:00:00Z' ORDER BY TotalAmt",
        ]
    ),
)
def test_pages_concatenate_to_the_whole_selection(rows: list[dict], size: int, tail: str) -> None:
    whole = select_rows(parse_query("SELECT * FROM Invoice" + tail), rows, name_list=False)
    paged: list[dict] = []
    start = 1
    while True:
        text = f"SELECT * FROM Invoice{tail} STARTPOSITION {start} MAXRESULTS {size}"
        query = parse_query(text)
        page = page_rows(query, select_rows(query, list(reversed(rows)), name_list=False))
        if not page:
            break
        paged.extend(page)
        start += len(page)
    assert _ids(paged) == _ids(whole)
    assert len(set(_ids(paged))) == len(paged)


def _literal(instant: datetime, form: str) -> str:
    """``instant`` written as clients write it: with Z, with an offset, or in company time."""
    if form == "Z":
        return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "none":
        return instant.astimezone(COMPANY_TZ).strftime("%Y-%m-%dT%H:%M:%S")
    zone = timezone(timedelta(hours=5, minutes=30))
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S+05:30")


_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(_STAMPS, max_size=30),
    _STAMPS,
    st.sampled_from(list(_COMPARE)),
    st.sampled_from(["Z", "+05:30", "none"]),
)
def test_datetime_filters_agree_with_a_plain_parser(
    stamps: list[str], bound: str, op: str, form: str
) -> None:
    literal = _literal(parse_qbo_datetime(bound), form)
    rows = [_invoice(str(i + 1), stamp, 1.0) for i, stamp in enumerate(stamps)]
    text = f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime {op} '{literal}' ORDERBY Id"
    at = parse_qbo_datetime(literal)
    expected = [
        str(i + 1) for i, stamp in enumerate(stamps) if _COMPARE[op](parse_qbo_datetime(stamp), at)
    ]
    assert _ids(_select(text, rows)) == expected


def test_stamps_at_the_edges_of_time_do_not_break_filters_or_sorting() -> None:
    rows = [
        _invoice("1", "0001-01-01T00:00:00+05:00", 1.0),
        _invoice("2", "9999-12-31T23:59:59-08:00", 1.0),
    ]
    text = "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2000-01-01' ORDERBY Id"
    assert _ids(_select(text, rows)) == ["2"]
    assert sorted(_ids(_select("SELECT * FROM Invoice", rows))) == ["1", "2"]


_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["12", "007", "2024-01-01", "2024-01-01T00:00:00-08:00", "x" * 25]),
    _STAMPS,
    st.just({"value": "5", "name": "ref"}),
    st.just([1, 2]),
)


@settings(max_examples=150, deadline=None)
@example(values=[float("inf")], field="Id", condition="= '5'")
@given(
    st.lists(_ANY_VALUE, max_size=12),
    st.sampled_from(["Amount", "Ref", "Id"]),
    st.sampled_from(["= '5'", "> 3", "< '2024-06-01'", "IN (true, '12', 4.5)", "LIKE '%0%'"]),
)
def test_mixed_kinds_of_values_filter_and_sort_without_error(
    values: list, field: str, condition: str
) -> None:
    rows = [{"Id": str(i), "Amount": value, "Ref": value} for i, value in enumerate(values)]
    if field == "Id":
        rows = [{**row, "Id": value} for row, value in zip(rows, values, strict=True)]
    for text in (
        f"SELECT * FROM Invoice WHERE {field} {condition}",
        f"SELECT * FROM Invoice ORDER BY {field} DESC, Amount",
        f"SELECT * FROM Customer ORDERBY {field}",
    ):
        query = parse_query(text)
        selected = select_rows(query, rows, name_list=query.entity == "Customer")
        assert all(row in rows for row in selected)


def test_query_results_stay_cached_for_a_whole_sync_and_are_bounded_by_rows() -> None:
    """A sync asks a listing per entity and a COUNT per long one (~35 queries), then pages them
    all: none may be re-sorted. The cache is bounded by the rows its results list."""
    from qb_pipeline.emulator import Emulator

    emulator = Emulator()
    computed: list[int] = []

    def result(number: int, rows: int):
        def compute() -> list[dict]:
            computed.append(number)
            return [{"Id": str(i)} for i in range(rows)]

        return compute

    for number in range(40):
        emulator.cached_rows(("realm", 1, number), result(number, 1_000))
    for number in range(40):  # the pages of every listing
        emulator.cached_rows(("realm", 1, number), result(number, 1_000))
    assert computed == list(range(40))

    emulator.config.query_cache_rows = 25_000  # holds 25 of them: the oldest leave first
    emulator.cached_rows(("realm", 1, 40), result(40, 1_000))
    emulator.cached_rows(("realm", 1, 0), result(0, 1_000))
    emulator.cached_rows(("realm", 1, 40), result(40, 1_000))
    assert computed[40:] == [40, 0]

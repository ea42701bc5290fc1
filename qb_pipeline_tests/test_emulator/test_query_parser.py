"""The emulator's QBO query parser: grammar, error codes and their details.

Real: every query string below was sent by a real client (API_FACTS 2.1: python-quickbooks,
node-quickbooks, Airbyte, the Singer and hotglue taps, qbo_api, a .NET app) and the recorded
error shapes (4000 with a JavaCC ``Encountered ... at line 1, column 52`` detail, 4001
``invalid context declaration`` and ``value 0 is too small``). Faked: nothing; pure unit and
property tests, no HTTP. Evaluation is tested in test_query.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qb_pipeline.emulator.exceptions import FaultError
from qb_pipeline.emulator.query import Condition, Literal, OrderTerm, parse_query, select_rows


def _fault(text: str) -> FaultError:
    with pytest.raises(FaultError) as caught:
        parse_query(text)
    return caught.value


# --- grammar: every form seen from real clients -----------------------------------------

REAL_CLIENT_QUERIES = {
    # python-quickbooks filter(), all(), count(), Item.all(), where() and choose()
    "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'": (
        "Customer",
        False,
        1,
        100,
        [Condition(("DisplayName",), "=", Literal("string", "Amy's Bird Sanctuary"))],
    ),
    "SELECT * FROM Customer MAXRESULTS 100": ("Customer", False, 1, 100, []),
    "SELECT COUNT(*) FROM Customer ": ("Customer", True, 1, 100, []),
    "SELECT *, Sku FROM Item": ("Item", False, 1, 100, []),
    "SELECT * FROM Customer ORDER BY DisplayName STARTPOSITION 11 MAXRESULTS 10": (
        "Customer",
        False,
        11,
        10,
        [],
    ),
    "SELECT * FROM Invoice  ORDERBY DocNumber DESC STARTPOSITION 1 MAXRESULTS 5": (
        "Invoice",
        False,
        1,
        5,
        [],
    ),
    "SELECT * FROM Customer WHERE Active = True": (
        "Customer",
        False,
        1,
        100,
        [Condition(("Active",), "=", Literal("boolean", "true"))],
    ),
    "SELECT * FROM Customer WHERE Id in ('5', '9')": (
        "Customer",
        False,
        1,
        100,
        [Condition(("Id",), "in", (Literal("string", "5"), Literal("string", "9")))],
    ),
    # node-quickbooks, lower case
    "select * from Customer where DisplayName = 'x' and Active = true orderby DisplayName desc "
    "startposition 1 maxresults 1000": (
        "Customer",
        False,
        1,
        1000,
        [
            Condition(("DisplayName",), "=", Literal("string", "x")),
            Condition(("Active",), "=", Literal("boolean", "true")),
        ],
    ),
    "select count(*) from customer": ("Customer", True, 1, 100, []),
    # Airbyte (note Metadata with a lower-case d)
    "SELECT * FROM Account WHERE Metadata.LastUpdatedTime > '2023-01-01T00:00:00+00:00' AND "
    "Metadata.LastUpdatedTime <= '2023-03-01T00:00:00+00:00' AND Active IN (true, false) "
    "ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 200": (
        "Account",
        False,
        1,
        200,
        [
            Condition(
                ("Metadata", "LastUpdatedTime"), ">", Literal("string", "2023-01-01T00:00:00+00:00")
            ),
            Condition(
                ("Metadata", "LastUpdatedTime"),
                "<=",
                Literal("string", "2023-03-01T00:00:00+00:00"),
            ),
            Condition(("Active",), "in", (Literal("boolean", "true"), Literal("boolean", "false"))),
        ],
    ),
    # Singer tap
    "SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime >= '2020-01-01T00:00:00Z' ORDER BY "
    "Metadata.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 1000": (
        "Invoice",
        False,
        1,
        1000,
        [
            Condition(
                ("Metadata", "LastUpdatedTime"), ">=", Literal("string", "2020-01-01T00:00:00Z")
            )
        ],
    ),
    # hotglue: lower-case where, double space, STARTPOSITION 0 on the first page
    "SELECT * FROM Customer where Active = false and "
    "Metadata.LastUpdatedTime >= '2020-01-01T00:00:00Z'  STARTPOSITION 0 MAXRESULTS 100": (
        "Customer",
        False,
        1,
        100,
        [
            Condition(("Active",), "=", Literal("boolean", "false")),
            Condition(
                ("Metadata", "LastUpdatedTime"), ">=", Literal("string", "2020-01-01T00:00:00Z")
            ),
        ],
    ),
    # qbo_api: MAXRESULTS before STARTPOSITION, spaces inside IN, count with IN
    "SELECT * FROM Vendor MAXRESULTS 5 STARTPOSITION 6": ("Vendor", False, 6, 5, []),
    "SELECT * FROM Employee WHERE Active IN ( true, false ) MAXRESULTS 1000 STARTPOSITION 1": (
        "Employee",
        False,
        1,
        1000,
        [Condition(("Active",), "in", (Literal("boolean", "true"), Literal("boolean", "false")))],
    ),
    "SELECT count(*) FROM Customer WHERE Id IN ('5', '6')": (
        "Customer",
        True,
        1,
        100,
        [Condition(("Id",), "in", (Literal("string", "5"), Literal("string", "6")))],
    ),
    # .NET app: mixed-case keywords
    "SELECT * FROM Invoice WHERE Balance > '0.0' StartPosition 0 MaxResults 500": (
        "Invoice",
        False,
        1,
        500,
        [Condition(("Balance",), ">", Literal("string", "0.0"))],
    ),
    # batch item query; newlines between clauses; unquoted number
    "select * from SalesReceipt where TotalAmt > '300.00'": (
        "SalesReceipt",
        False,
        1,
        100,
        [Condition(("TotalAmt",), ">", Literal("string", "300.00"))],
    ),
    "SELECT *\nFROM Invoice\nWHERE TotalAmt >= 10.5\n": (
        "Invoice",
        False,
        1,
        100,
        [Condition(("TotalAmt",), ">=", Literal("number", "10.5"))],
    ),
}


@pytest.mark.parametrize("text", list(REAL_CLIENT_QUERIES))
def test_real_client_queries_parse(text: str) -> None:
    entity, count, start, maximum, conditions = REAL_CLIENT_QUERIES[text]
    query = parse_query(text)
    assert (query.entity, query.count) == (entity, count)
    assert (query.start_position, query.max_results) == (start, maximum)
    assert list(query.conditions) == conditions


def test_order_by_terms_projection_and_active_flag() -> None:
    query = parse_query(
        "SELECT Id, DisplayName FROM customer WHERE active IN (true) "
        "ORDER BY MetaData.LastUpdatedTime DESC, Id"
    )
    assert query.order_by == (
        OrderTerm(("MetaData", "LastUpdatedTime"), True),
        OrderTerm(("Id",), False),
    )
    assert query.fields == ("Id", "DisplayName")
    assert query.mentions_active is True
    assert parse_query("SELECT * FROM Customer").mentions_active is False


def test_paging_values_default_clamp_and_zero() -> None:
    assert parse_query("SELECT * FROM Item MAXRESULTS 5000").max_results == 1000
    assert parse_query("SELECT * FROM Item STARTPOSITION 0").start_position == 1
    huge = parse_query("SELECT * FROM Item STARTPOSITION " + "9" * 5000 + " MAXRESULTS " + "9" * 50)
    assert huge.max_results == 1000 and huge.start_position > 10**17


def test_cache_key_ignores_paging_only() -> None:
    first = parse_query("SELECT * FROM Invoice WHERE TotalAmt > '1' STARTPOSITION 1 MAXRESULTS 10")
    same = parse_query("SELECT * FROM invoice WHERE TotalAmt > '1' MAXRESULTS 50 STARTPOSITION 51")
    assert first.cache_key == same.cache_key
    assert hash(first.cache_key) == hash(same.cache_key)
    truthy = parse_query("SELECT * FROM Customer WHERE Active = true").cache_key
    assert truthy != parse_query("SELECT * FROM Customer WHERE Active = 1").cache_key
    counted = parse_query("SELECT COUNT(*) FROM Invoice WHERE TotalAmt > '1'").cache_key
    assert counted != first.cache_key


# --- errors ---------------------------------------------------------------------------------


def test_unknown_entity_is_4001_invalid_context() -> None:
    fault = _fault("SELECT * FROM Custmoer")
    assert (fault.code, fault.message, fault.status) == ("4001", "Invalid query", 400)
    assert fault.detail == "QueryValidationError: invalid context declaration: Custmoer"


def test_syntax_error_names_token_and_column_like_qbo() -> None:
    # The unescaped apostrophe node-quickbooks once sent; QBO answered column 52.
    fault = _fault("select * from vendor where DisplayName = 'Cutlery 'R Us'")
    assert (fault.code, fault.message) == ("4000", "Error parsing query")
    assert fault.detail.startswith(
        'QueryParserError: Encountered " <IDENTIFIER> "R "" at line 1, column 52.\n'
        "Was expecting one of:\n    <EOF> \n    <AND> ...\n"
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "SELECT * FROM Customer WHERE Active = true OR Active = false",
            '" <OR> "OR "" at line 1, column 44',
        ),
        ("SELECT * FROM Customer WHERE NOT Active = true", '" "not" "NOT "" at line 1, column 30'),
        ("SELECT * FROM Customer WHERE (Active = true)", '" "(" "( "" at line 1, column 30'),
        (
            "SELECT * FROM Customer WHERE UPPER(DisplayName) = 'X'",
            '" "(" "( "" at line 1, column 35',
        ),
        (
            "SELECT * FROM Customer WHERE DisplayName = 'Amy''s'",
            '" <STRING_LITERAL> "\'s\' "" at line 1, column 49',
        ),
        ("SELECT * FROM Customer WHERE Id IN ()", '" ")" ") "" at line 1, column 37'),
        ("SELECT * FROM Customer WHERE Balance <> 0", '" ">" "> "" at line 1, column 39'),
        (
            "SELECT * FROM Item MAXRESULTS 10 MAXRESULTS 20",
            '" "maxresults" "MAXRESULTS "" at line 1, column 34',
        ),
        ("SELECT * FROM Item MAXRESULTS 1.5", '" <DECIMAL_LITERAL> "1.5 "" at line 1, column 31'),
        (
            "SELECT * FROM Item STARTPOSITION 2 ORDER BY Name",
            '" "order" "ORDER "" at line 1, column 36',
        ),
        ("SELECT FROM Item", '" "from" "FROM "" at line 1, column 8'),
        ("SELECT * FROM", '"<EOF>" at line 1, column 13'),
        (
            "SELECT *\nFROM Item\nWHERE Name = 'a' OR Name = 'b'",
            '" <OR> "OR "" at line 3, column 18',
        ),
        ("", '"<EOF>" at line 0, column 0'),
    ],
)
def test_unsupported_syntax_is_4000_with_position(text: str, found: str) -> None:
    fault = _fault(text)
    assert fault.code == "4000"
    assert fault.detail.startswith(f"QueryParserError: Encountered {found}.\nWas expecting")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELECT * FROM Customer;", 'line 1, column 23.  Encountered: ";" (59), after : ""'),
        ("SELECT * FROM Customer WHERE DisplayName != 'x'", 'column 42.  Encountered: "!" (33)'),
        ('SELECT * FROM Customer WHERE DisplayName = "x"', 'column 44.  Encountered: """ (34)'),
        (
            "SELECT * FROM Customer WHERE DisplayName = 'abc\\'",
            "Encountered: <EOF> after : \"'abc\\\\'\"",
        ),
        ("SELECT * FROM Customer WHERE DisplayName LIKE %", 'column 47.  Encountered: "%" (37)'),
    ],
)
def test_lexical_errors_are_4000(text: str, detail: str) -> None:
    fault = _fault(text)
    assert fault.code == "4000"
    assert fault.detail.startswith("QueryParserError: Invalid content. Lexical error at ")
    assert detail in fault.detail


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELECT * FROM Customer MAXRESULTS 0", "value 0 is too small. Min allowed value is 1"),
        ("SELECT * FROM Customer MAXRESULTS -5", "value -5 is too small. Min allowed value is 1"),
        (
            "SELECT * FROM Customer STARTPOSITION -1",
            "value -1 is too small. Min allowed value is 0",
        ),
        (
            "SELECT * FROM Invoice WHERE Line.Amount > '5'",
            "property Line.Amount is not supported for filtering or sorting on entity Invoice",
        ),
        ("SELECT * FROM Invoice ORDER BY line.Amount", "property line.Amount is not supported"),
        ("SELECT * FROM TaxService", "invalid context declaration: TaxService"),
    ],
)
def test_validation_errors_are_4001(text: str, detail: str) -> None:
    fault = _fault(text)
    assert fault.code == "4001"
    assert fault.detail.startswith(f"QueryValidationError: {detail}")


# --- properties ----------------------------------------------------------------------------


def _quote(value: str) -> str:
    """python-quickbooks' quoting: only the apostrophe is escaped, with a backslash."""
    return "'" + value.replace("'", "\\'") + "'"


@given(st.text(max_size=10).map(lambda text: text + "\\"))
def test_a_trailing_backslash_leaves_the_string_open(value: str) -> None:
    assert _fault(f"SELECT * FROM Customer WHERE DisplayName = {_quote(value)}").code == "4000"


_FRAGMENTS = st.sampled_from(
    [
        "SELECT",
        "select",
        "*",
        "COUNT(*)",
        "FROM",
        "Customer",
        "Invoice",
        "WHERE",
        "AND",
        "OR",
        "Id",
        "MetaData.LastUpdatedTime",
        "=",
        "<",
        ">=",
        "LIKE",
        "IN",
        "(",
        ")",
        ",",
        "'a'",
        "'2024-01-01T00:00:00Z'",
        "'\\'",
        "5",
        "-1",
        "0",
        "true",
        "ORDER BY",
        "ORDERBY",
        "DESC",
        "STARTPOSITION",
        "MAXRESULTS",
        "1000",
        ";",
        "%",
        "\n",
        "'unterminated",
        "Line.Amount",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(_FRAGMENTS, max_size=16).map(" ".join)))
def test_no_input_raises_anything_but_a_fault(text: str) -> None:
    try:
        query = parse_query(text)
    except FaultError as fault:
        assert fault.code in ("4000", "4001")
        return
    rows = [{"Id": "1", "Name": "a", "MetaData": {"LastUpdatedTime": "2024-01-01T00:00:00Z"}}]
    assert len(select_rows(query, rows, name_list=query.entity == "Customer")) <= 1

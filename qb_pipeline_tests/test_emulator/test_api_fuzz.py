"""Property test over real HTTP: bad requests never crash the emulator.

Real: whatever a client sends under /v3 (malformed or gzip-garbled JSON, unknown entities,
bad queries, huge page numbers, another company's id, an expired, revoked or garbage token,
random bytes, random paths and query parameters) is answered like QBO would: a 2xx, a JSON
``Fault`` envelope, or the lower-case 401 body; never an unhandled exception (a bare 500),
and the server keeps serving afterwards. Faked: nothing; faults and throttles are off so every
request reaches the handlers. The back door (/_emulator) is out of scope: it is not QBO.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.entities import BY_PATH, ENTITY_TYPES
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import new_realm, sales_line

server = support.server  # fixture


def words(text: str) -> list[str]:
    return text.split()


HEADS = [*sorted(BY_PATH), "query", "cdc", "batch", "reports", "upload", "taxservice", "nosuch"]
REPORTS = words("TrialBalance ProfitAndLoss BalanceSheet AgedReceivables AgedPayables CashFlow X")
PARAM_NAMES = words(
    "query operation include minorversion requestid entities changedSince sendTo start_date "
    "end_date date_macro aging_period num_periods report_date customer accounting_method format "
    "sourcecurrencycode sparse"
)
ENTITY_NAMES = [*ENTITY_TYPES, "Custmoer", "invoice", "TaxService", ""]
FIELDS = words("Id DisplayName TotalAmt MetaData.LastUpdatedTime Active Line.Amount CustomerRef x")
OPERATORS = ["=", "<", ">", "<=", ">=", "LIKE", "IN", "!=", "OR", ""]
BODY_KEYS = words(
    "Id SyncToken sparse DisplayName Line CustomerRef TotalAmt Active Name VendorRef "
    "BatchItemRequest bId operation Query Amount LinkedTxn PayType TxnDate"
)
LITERALS = st.one_of(
    st.sampled_from(
        [
            "'a'",
            "'Amy\\'s'",
            "'%'",
            "true",
            "(true, false)",
            "('1','2')",
            "'2024-01-01'",
            "'2024-01-01T00:00:00Z'",
            "'",
            "\\",
            "''",
            "1e999",
            "-1",
            "'\u2019'",
        ]
    ),
    st.integers(-(10**30), 10**30).map(str),
)
TEXT = st.text(max_size=40)


@dataclass
class Target:
    """The running server and the identities a fuzzed request may use."""

    url: str
    realm_id: str
    other_realm_id: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def target(server: EmulatorServer) -> Iterator[Target]:
    em = server.emulator
    expired = new_realm(server)
    em.clock.advance(3601)  # expired's token is now an hour old
    revoked = new_realm(server)
    em.oauth.revoke_realm(revoked.realm_id)
    main, other = new_realm(server), new_realm(server)
    customer = main.customer("Fuzz Customer")
    main.invoice(customer["Id"], 10)
    main.create("SalesReceipt", {"Line": [sales_line(5)]})
    tokens = {
        "valid": main.token,
        "expired": expired.token,
        "revoked": revoked.token,
        "other": other.token,
        "garbage": "x" * 64,
    }
    for company in (expired, revoked, main, other):
        company.client.close()
    yield Target(server.url, main.realm_id, other.realm_id, tokens)


def query_texts() -> st.SearchStrategy[str]:
    structured = st.builds(
        lambda sel, entity, field, op, lit, pos, size: (
            f"{sel} FROM {entity} WHERE {field} {op} {lit} STARTPOSITION {pos} MAXRESULTS {size}"
        ),
        st.sampled_from(
            ["SELECT *", "select count(*)", "SELECT Id, Name", "SELECT", "SELECT *, Sku"]
        ),
        st.sampled_from(ENTITY_NAMES),
        st.sampled_from(FIELDS),
        st.sampled_from(OPERATORS),
        LITERALS,
        st.one_of(st.integers(-5, 10**40), st.just("x")),
        st.one_of(st.integers(-5, 10**40), st.just("")),
    )
    return st.one_of(
        structured, TEXT, st.sampled_from(["SELECT * FROM Invoice ORDERBY", "SELECT * FROM"])
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _line(detail: str, body: dict) -> dict:
    return {"Amount": 10, "DetailType": detail, detail: body}


TEMPLATES: dict[str, dict[str, Any]] = {
    "invoice": {
        "CustomerRef": {"value": "1"},
        "SalesTermRef": {"value": "2"},
        "TxnDate": "2024-05-01",
        "Line": [
            _line(
                "SalesItemLineDetail",
                {
                    "ItemRef": {"value": "1"},
                    "Qty": 2,
                    "UnitPrice": 5,
                    "TaxCodeRef": {"value": "TAX"},
                },
            ),
            {
                "Amount": 1,
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
            },
        ],
        "LinkedTxn": [{"TxnId": "1", "TxnType": "Estimate"}],
    },
    "payment": {
        "CustomerRef": {"value": "1"},
        "TotalAmt": 10,
        "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": "1", "TxnType": "Invoice"}]}],
    },
    "bill": {
        "VendorRef": {"value": "1"},
        "SalesTermRef": {"value": "3"},
        "Line": [_line("AccountBasedExpenseLineDetail", {"AccountRef": {"value": "7"}})],
    },
    "billpayment": {
        "VendorRef": {"value": "1"},
        "PayType": "Check",
        "TotalAmt": 5,
        "CheckPayment": {"BankAccountRef": {"value": "1"}},
        "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "3", "TxnType": "Bill"}]}],
    },
    "journalentry": {
        "Line": [
            _line("JournalEntryLineDetail", {"PostingType": "Debit", "AccountRef": {"value": "7"}}),
            _line(
                "JournalEntryLineDetail", {"PostingType": "Credit", "AccountRef": {"value": "1"}}
            ),
        ]
    },
    "deposit": {
        "DepositToAccountRef": {"value": "1"},
        "CashBack": {"Amount": 1},
        "Line": [_line("DepositLineDetail", {"AccountRef": {"value": "3"}})],
    },
    "purchase": {
        "AccountRef": {"value": "1"},
        "PaymentType": "Cash",
        "EntityRef": {"value": "1", "type": "Customer"},
        "Line": [
            _line(
                "ItemBasedExpenseLineDetail", {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 10}
            )
        ],
    },
    "customer": {
        "DisplayName": "Fuzzed",
        "ParentRef": {"value": "1"},
        "SalesTermRef": {"value": "1"},
        "PrimaryEmailAddr": {"Address": "a@b.c"},
        "Active": True,
    },
    "term": {"Name": "Fuzz term", "DueDays": 10, "Type": "STANDARD"},
    "account": {"Name": "Fuzz acct", "AccountType": "Bank", "ParentRef": {"value": "1"}},
    "item": {
        "Name": "Fuzz item",
        "Type": "Inventory",
        "IncomeAccountRef": {"value": "3"},
        "ExpenseAccountRef": {"value": "5"},
        "AssetAccountRef": {"value": "6"},
        "InvStartDate": "2024-01-01",
    },
    "transfer": {"FromAccountRef": {"value": "1"}, "ToAccountRef": {"value": "2"}, "Amount": 5},
    "preferences": {
        "SalesFormsPrefs": {"DefaultTerms": {"value": "2"}},
        "TaxPrefs": {"TaxGroupCodeRef": {"value": "2"}},
    },
}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path inside a JSON value."""
    out = [prefix] if prefix else []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, item in items:
        out += _paths(item, (*prefix, key))
    return out


@st.composite
def mutated_template(draw: st.DrawFn) -> tuple[str, Any]:
    """A realistic entity body with one to three values replaced (or removed)."""
    entity = draw(st.sampled_from(sorted(TEMPLATES)))
    body = json.loads(json.dumps(TEMPLATES[entity]))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(
                JSON_VALUES | st.sampled_from(["1e999", "nan", "-0", "9999-12-31", "99", ""])
            )
    if draw(st.booleans()):
        body.update(
            Id=draw(st.sampled_from(["1", "2", "3", "x"])),
            SyncToken=draw(st.sampled_from(["0", 0, "9"])),
            sparse=draw(st.booleans()),
        )
    return entity, body


def entity_bodies() -> st.SearchStrategy[Any]:
    batch = st.builds(
        lambda n: {
            "BatchItemRequest": [{"bId": str(i), "Query": "SELECT * FROM Item"} for i in range(n)]
        },
        st.integers(0, 35),
    )
    return st.one_of(
        JSON_VALUES, st.dictionaries(st.sampled_from(BODY_KEYS), JSON_VALUES, max_size=6), batch
    )


def body_and_headers(draw: st.DrawFn, token: str) -> tuple[bytes, dict[str, str]]:
    """A body of some kind (none, JSON, bytes, gzip, broken gzip, query text) and its headers."""
    kind = draw(st.sampled_from(["none", "json", "bytes", "gzip", "bad-gzip", "text"]))
    body, headers = b"", {"Accept": "application/json"}
    if kind in ("json", "gzip"):
        body = json.dumps(draw(entity_bodies())).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=80))
    elif kind == "text":
        body, headers["Content-Type"] = draw(query_texts()).encode(), "application/text"
    if kind in ("gzip", "bad-gzip"):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body) if kind == "gzip" else body + draw(st.binary(max_size=20))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return body, headers


def deep_write(draw: st.DrawFn, target: Target) -> dict[str, Any]:
    """An authorised POST of a realistic body with a few values broken."""
    entity, payload = draw(mutated_template())
    params = draw(
        st.dictionaries(
            st.sampled_from(["operation", "include", "requestid"]),
            st.sampled_from(["update", "delete", "void", "create", "x"]),
            max_size=2,
        )
    )
    headers = {"Accept": "application/json", "Authorization": f"Bearer {target.tokens['valid']}"}
    return {
        "method": "POST",
        "url": f"{target.url}/v3/company/{target.realm_id}/{entity}",
        "params": params,
        "content": json.dumps(payload).encode(),
        "headers": headers,
    }


@st.composite
def fuzzed_request(draw: st.DrawFn, target: Target) -> dict[str, Any]:
    """Keyword arguments of one ``httpx.Client.request``: anything a careless client might send."""
    if draw(st.integers(0, 2)) == 0:
        return deep_write(draw, target)
    realm = draw(
        st.sampled_from([target.realm_id] * 4 + [target.other_realm_id, "1", "abc", "9" * 30])
    )
    segment = st.sampled_from(["1", "2", "3", "pdf", "send", "0", "1.5", *REPORTS])
    tail = draw(st.lists(segment | st.text(alphabet="abcXYZ019-_.%~", max_size=8), max_size=3))
    head = draw(st.sampled_from(HEADS))
    params = draw(st.dictionaries(st.sampled_from(PARAM_NAMES) | TEXT, TEXT, max_size=4))
    if head == "query" or draw(st.booleans()):
        params["query"] = draw(query_texts())
    token = draw(
        st.sampled_from(["valid"] * 6 + ["expired", "revoked", "other", "garbage", "none"])
    )
    body, headers = body_and_headers(draw, target.tokens.get(token, ""))
    prefix = draw(st.sampled_from([f"/v3/company/{realm}/"] * 9 + ["/v3/", "/", "/v2/company/"]))
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    return {
        "method": method,
        "url": target.url + prefix + "/".join([head, *tail]),
        "params": params,
        "content": body,
        "headers": headers,
    }


def assert_qbo_shaped(resp: httpx.Response) -> None:
    """A 2xx, a QBO Fault envelope or the lower-case 401 body; never a crash."""
    assert resp.status_code < 500, resp.text  # faults are off: a 5xx is an emulator bug
    if 200 <= resp.status_code < 300:
        return
    body = resp.json()
    if resp.status_code == 401:
        assert body["fault"]["error"][0]["code"] == "3200"
        return
    error = body["Fault"]["Error"][0]
    assert isinstance(error["code"], str) and error["code"]
    assert {"Message", "Detail", "element"} <= set(error)


def test_bad_requests_never_crash_the_server(target: Target) -> None:
    with httpx.Client(timeout=20.0) as client:

        @settings(
            max_examples=150,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.data())
        def check(data: st.DataObject) -> None:
            request = data.draw(fuzzed_request(target))
            assert_qbo_shaped(client.request(**request))

        check()
        health = client.get(
            f"{target.url}/v3/company/{target.realm_id}/query",
            params={"query": "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)"},
            headers={
                "Authorization": f"Bearer {target.tokens['valid']}",
                "Accept": "application/json",
            },
        )
        assert health.status_code == 200
        assert health.json()["QueryResponse"]["totalCount"] >= 1

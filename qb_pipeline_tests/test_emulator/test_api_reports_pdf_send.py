"""Reports, invoice PDFs and e-mail sending over real HTTP, on books built through the API.

Real (API_FACTS 1.16, 8): ``/reports/{name}`` answers Header/Columns/Rows with no ``time``
envelope; the figures tie out (trial balance debits == credits, assets == liabilities +
equity, A/R and A/P aging totals == open invoice and bill balances);
``/invoice/{id}/pdf`` is a PDF document; ``/invoice/{id}/send?sendTo=`` marks the invoice
EmailSent with DeliveryInfo and the BillEmail it went to. Faked: no e-mail leaves the machine;
the PDF is a one-page rendering of our own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import (
    Realm,
    account_id,
    assert_fault,
    sales_line,
)

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def build_books(realm: Realm, emulator: Emulator) -> None:
    """Invoices (one overdue, one part paid), a credit sale, bills and a bill payment."""
    today = emulator.clock.now().date()
    amy, bob = realm.customer("Amy")["Id"], realm.customer("Bob")["Id"]
    realm.invoice(
        amy, 120, TxnDate=(today - timedelta(days=45)).isoformat(), SalesTermRef={"value": "3"}
    )
    paid = realm.invoice(amy, 200, 50)
    realm.create(
        "Invoice",
        {"CustomerRef": {"value": bob}, "Line": [sales_line(80, TaxCodeRef={"value": "TAX"})]},
    )
    realm.create(
        "Payment",
        {
            "CustomerRef": {"value": amy},
            "TotalAmt": 100,
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Invoice"}]}],
        },
    )
    realm.create("SalesReceipt", {"Line": [sales_line(40)]})
    vendor = realm.vendor("Paper Co")["Id"]
    bill = realm.bill(vendor, 300)
    realm.bill(vendor, 75)
    realm.create(
        "BillPayment",
        {
            "VendorRef": {"value": vendor},
            "PayType": "Check",
            "TotalAmt": 120,
            "CheckPayment": {"BankAccountRef": {"value": account_id(realm, "Checking")}},
            "Line": [{"Amount": 120, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
        },
    )


def report(realm: Realm, name: str, **params: str) -> dict[str, Any]:
    resp = realm.client.get(f"/reports/{name}", params=params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"Header", "Columns", "Rows"}
    assert body["Header"]["ReportName"] == name
    return body


def summary(rows: list[dict], group: str) -> list[str]:
    """The Summary ColData values of the section ``group`` anywhere in the row tree."""
    for row in rows:
        if row.get("group") == group and "Summary" in row:
            return [cell["value"] for cell in row["Summary"]["ColData"]]
        found = summary(row.get("Rows", {}).get("Row", []), group) if "Rows" in row else None
        if found:
            return found
    return []


def money(text: str) -> float:
    return float(text) if text else 0.0


def test_trial_balance_debits_equal_credits(realm: Realm, emulator: Emulator) -> None:
    build_books(realm, emulator)
    body = report(realm, "TrialBalance")
    assert [c["ColTitle"] for c in body["Columns"]["Column"]] == ["", "Debit", "Credit"]
    rows = body["Rows"]["Row"]
    data = [row for row in rows if row.get("type") == "Data"]
    debits = sum(money(row["ColData"][1]["value"]) for row in data)
    credits = sum(money(row["ColData"][2]["value"]) for row in data)
    total = summary(rows, "GrandTotal")
    assert total[0] == "TOTAL" and total[1] == total[2]
    assert round(debits, 2) == round(credits, 2) == money(total[1]) > 0


def test_balance_sheet_balances_and_ties_to_profit_and_loss(
    realm: Realm, emulator: Emulator
) -> None:
    build_books(realm, emulator)
    rows = report(realm, "BalanceSheet")["Rows"]["Row"]
    assets = money(summary(rows, "TotalAssets")[1])
    assert assets == money(summary(rows, "TotalLiabilitiesAndEquity")[1]) > 0
    today = emulator.clock.now().date()
    period = {
        "start_date": (today - timedelta(days=100)).isoformat(),
        "end_date": today.isoformat(),
    }
    pnl = report(realm, "ProfitAndLoss", **period)["Rows"]["Row"]
    income = money(summary(pnl, "Income")[1])
    expenses = money(summary(pnl, "Expenses")[1])
    net = money(summary(pnl, "NetIncome")[1])
    assert income == 200 + 50 + 80 + 120 + 40
    assert round(income - expenses, 2) == net


def test_aged_receivables_total_is_open_invoice_balances(realm: Realm, emulator: Emulator) -> None:
    build_books(realm, emulator)
    body = report(realm, "AgedReceivables")
    titles = [c["ColTitle"] for c in body["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    open_balance = sum(row["Balance"] for row in realm.query("SELECT * FROM Invoice")["Invoice"])
    total = summary(body["Rows"]["Row"], "GrandTotal")
    assert total[0] == "TOTAL" and money(total[-1]) == round(open_balance, 2) == 120 + 150 + 86.4
    assert money(total[2]) == 120  # 45 days old on Net 30: 15 days past due
    by_customer = {
        row["ColData"][0]["value"]: money(row["ColData"][-1]["value"])
        for row in body["Rows"]["Row"]
        if row.get("type") == "Data"
    }
    assert by_customer == {"Amy": 270, "Bob": 86.4}


def test_aged_payables_total_is_open_bill_balances(realm: Realm, emulator: Emulator) -> None:
    build_books(realm, emulator)
    body = report(realm, "AgedPayables")
    open_balance = sum(row["Balance"] for row in realm.query("SELECT * FROM Bill")["Bill"])
    total = summary(body["Rows"]["Row"], "GrandTotal")
    assert money(total[-1]) == open_balance == 180 + 75


def test_report_faults(realm: Realm) -> None:
    assert_fault(realm.client.get("/reports/NoSuchReport"), 400, "500")
    assert_fault(realm.client.get("/reports/CashFlow"), 400, "5030")


def test_invoice_pdf_is_a_pdf(realm: Realm) -> None:
    invoice = realm.invoice(realm.customer("Pdf Co")["Id"], 99.5)
    resp = realm.client.get(f"/invoice/{invoice['Id']}/pdf", headers={"Accept": "application/pdf"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF-")
    assert resp.content.rstrip().endswith(b"%%EOF")
    assert_fault(realm.client.get("/invoice/9999/pdf"), 400, "610")


def test_send_invoice_to_an_address(realm: Realm) -> None:
    invoice = realm.invoice(realm.customer("Mail Co")["Id"], 10)
    assert "BillEmail" not in invoice and invoice["EmailStatus"] == "NotSet"
    resp = realm.client.post(
        f"/invoice/{invoice['Id']}/send",
        params={"sendTo": "ap@mail.example"},
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 200
    sent = resp.json()["Invoice"]
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["BillEmail"] == {"Address": "ap@mail.example"}
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email" and sent["DeliveryInfo"]["DeliveryTime"]
    assert sent["SyncToken"] == "1"
    assert realm.read("Invoice", invoice["Id"]) == sent


@pytest.mark.parametrize("has_email", [True, False])
def test_send_without_send_to_uses_bill_email(realm: Realm, has_email: bool) -> None:
    extra = {"PrimaryEmailAddr": {"Address": "billing@known.example"}} if has_email else {}
    invoice = realm.invoice(realm.customer("Known Co", **extra)["Id"], 10)
    resp = realm.client.post(f"/invoice/{invoice['Id']}/send")
    if has_email:
        assert resp.status_code == 200
        assert resp.json()["Invoice"]["BillEmail"] == {"Address": "billing@known.example"}
    else:
        assert_fault(resp, 400, "2020", element="BillEmail")

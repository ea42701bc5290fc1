"""Transactions: the fields QBO computes on create and update.

Real (API_FACTS 1.9, 3.5-3.10): line Ids and LineNum, Amount == Qty x UnitPrice (6070), the
SubTotal line the server appends, discount lines, TxnTaxDetail from the tax code's rates,
TotalAmt, Balance, HomeTotalAmt, DueDate from terms, DocNumber sequence, TxnDate = today,
names resolved on refs, addresses and e-mail copied from the customer, JournalEntry debits ==
credits (2300). Faked: tax is one percentage per tax code (sum of its sales rates); rounding
to the cent per transaction. Not implemented: inventory quantity tracking, tax on shipping.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.entities import SALES_FORMS, EntityType
from qb_pipeline.emulator.fields import READ_ONLY, money, number, qbo_date, ref_id
from qb_pipeline.emulator.form_lines import named_ref, number_lines
from qb_pipeline.emulator.forms_money import (
    bill_payment,
    deposit,
    journal_entry,
    payment,
    transfer,
)

if TYPE_CHECKING:
    from qb_pipeline.emulator.books import Books

EXPENSE_FORMS = ("Bill", "Purchase", "VendorCredit", "PurchaseOrder")
SALES_DETAIL = "SalesItemLineDetail"
TAXABLE = "TAX"


def prepare(books: Books, et: EntityType, payload: dict[str, Any], current: dict | None) -> dict:
    """The stored transaction (without Id/SyncToken/MetaData) for a create or merged update."""
    obj = {k: v for k, v in payload.items() if k not in READ_ONLY}
    for field in et.required:
        if field not in obj or obj[field] in ([], {}):
            raise exc.RequiredParam(field)
    obj["TxnDate"] = qbo_date(
        obj.get("TxnDate") or books.today().isoformat(), "TxnDate"
    ).isoformat()
    currency = _currency(books, obj)
    obj["CurrencyRef"] = books.currency_ref(currency)
    if currency != books.home_currency:
        obj["ExchangeRate"] = number(obj.get("ExchangeRate", books.rate(currency)), "ExchangeRate")
    else:
        obj.pop("ExchangeRate", None)
    handler = FORM_HANDLERS.get(et.name)
    if handler is not None:
        handler(books, et, obj, current)
    if "TotalAmt" in obj and "ExchangeRate" in obj:
        obj["HomeTotalAmt"] = round(obj["TotalAmt"] * obj["ExchangeRate"], 2)
    if et.doc_number and not obj.get("DocNumber"):
        obj["DocNumber"] = current.get("DocNumber") if current else books.next_doc_number(et.name)
    if obj.get("DocNumber") and len(str(obj["DocNumber"])) > 21:
        raise exc.InvalidValue(
            "2050",
            "Invalid String Length",
            "String length specified does not match the supported length. Min:0 Max:21 "
            f"supported. Supplied length:{len(str(obj['DocNumber']))}",
            "DocNumber",
        )
    return obj


def _currency(books: Books, obj: dict) -> str:
    given = ref_id(obj, "CurrencyRef")
    if given:
        return given
    for field in ("CustomerRef", "VendorRef"):
        party_id = ref_id(obj, field)
        if party_id:
            entity = "Customer" if field == "CustomerRef" else "Vendor"
            party = books.get_ref(entity, party_id, field)
            return str(party.get("CurrencyRef", {}).get("value", books.home_currency))
    return books.home_currency


def _sales_line(books: Books, line: dict) -> None:
    detail = line.setdefault(SALES_DETAIL, {})
    item = named_ref(books, detail, "ItemRef", "Item") if "ItemRef" in detail else None
    qty = number(detail["Qty"], "Qty") if "Qty" in detail else None
    price = number(detail["UnitPrice"], "UnitPrice") if "UnitPrice" in detail else None
    amount = money(line["Amount"], "Amount") if "Amount" in line else None
    if amount is None:
        if qty is None or price is None:
            raise exc.RequiredParam("Amount")
        amount = round(qty * price, 2)
    elif qty is not None and price is not None and abs(round(qty * price, 2) - amount) > 0.005:
        raise exc.BusinessRule(
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
            code="6070",
            element="Amount",
        )
    elif qty is not None and price is None and qty:
        detail["UnitPrice"] = round(amount / qty, 5)
    elif price is not None and qty is None and price:
        detail["Qty"] = round(amount / price, 5)
    line["Amount"] = amount
    if item is not None and "Description" not in line and item.get("Description"):
        line["Description"] = item["Description"]
    code = ref_id(detail, "TaxCodeRef") or ("TAX" if item and item.get("Taxable") else "NON")
    if code not in ("TAX", "NON"):
        books.get_ref("TaxCode", code, "TaxCodeRef")
    detail["TaxCodeRef"] = {"value": code}


def _sales_form(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    customer = named_ref(books, obj, "CustomerRef", "Customer")
    lines = [line for line in obj.get("Line", []) if line.get("DetailType") != "SubTotalLineDetail"]
    subtotal = discount = taxable = 0.0
    for line in lines:
        kind = line.get("DetailType")
        if kind == SALES_DETAIL:
            _sales_line(books, line)
            subtotal += line["Amount"]
            if line[SALES_DETAIL]["TaxCodeRef"]["value"] != "NON":
                taxable += line["Amount"]
        elif kind in ("DescriptionOnly", "GroupLineDetail"):
            line.setdefault("Amount", 0)
    for line in lines:
        if line.get("DetailType") == "DiscountLineDetail":
            detail = line.setdefault("DiscountLineDetail", {})
            if detail.get("PercentBased"):
                pct = number(detail.get("DiscountPercent", 0), "DiscountPercent")
                line["Amount"] = round(subtotal * pct / 100, 2)
            else:
                line["Amount"] = money(line.get("Amount", 0), "Amount")
            discount += line["Amount"]
        elif line.get("DetailType") not in (SALES_DETAIL, "DescriptionOnly", "GroupLineDetail"):
            raise exc.InvalidValue(
                "2170",
                "Invalid Enumeration",
                f"Invalid Enumeration : {line.get('DetailType')}",
                "DetailType",
            )
    number_lines(lines, current)
    subtotal = round(subtotal, 2)
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    obj["Line"] = lines
    exempt = customer is not None and customer.get("Taxable") is False
    obj["TxnTaxDetail"] = _tax_detail(books, obj, 0.0 if exempt else taxable)
    obj["TotalAmt"] = round(subtotal - discount + obj["TxnTaxDetail"]["TotalTax"], 2)
    obj.setdefault("ApplyTaxAfterDiscount", False)
    obj.setdefault("PrintStatus", "NotSet")
    obj.setdefault("EmailStatus", "NotSet")
    if customer is not None:
        _copy_customer(obj, customer)
    _sales_form_balance(books, et, obj, current)


def _sales_form_balance(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    applied = books.applied_to(et.name, current["Id"]) if current else 0.0
    if et.name == "Invoice":
        obj["LinkedTxn"] = _keep_links(obj, current, ("Payment", "CreditMemo", "Estimate"))
        if obj["TotalAmt"] + 0.005 < applied:
            raise exc.BusinessRule("The invoice total is less than the payments applied to it.")
        obj["Balance"] = round(obj["TotalAmt"] - applied, 2)
        _due_date(books, obj)
        for flag in (
            "AllowIPNPayment",
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        ):
            obj.setdefault(flag, False)
    elif et.name == "CreditMemo":
        obj["RemainingCredit"] = round(obj["TotalAmt"] - applied, 2)
        obj["Balance"] = obj["RemainingCredit"]
    elif et.name == "Estimate":
        obj.setdefault("TxnStatus", "Pending")
        obj["LinkedTxn"] = _keep_links(obj, current, ("Invoice",))
        _due_date(books, obj)
    else:  # SalesReceipt, RefundReceipt: paid on the spot
        obj["Balance"] = 0
        if "DepositToAccountRef" in obj:
            named_ref(books, obj, "DepositToAccountRef", "Account")
        if "PaymentMethodRef" in obj:
            named_ref(books, obj, "PaymentMethodRef", "PaymentMethod")


def _keep_links(obj: dict, current: dict | None, server_types: tuple[str, ...]) -> list[dict]:
    """Header LinkedTxn: server-maintained links survive a full update; client ones are taken."""
    given = [dict(link) for link in obj.get("LinkedTxn", []) if link.get("TxnType") == "Estimate"]
    kept = [
        dict(link)
        for link in (current or {}).get("LinkedTxn", [])
        if link.get("TxnType") in server_types and link.get("TxnType") != "Estimate"
    ]
    return kept + given


def _copy_customer(obj: dict, customer: dict) -> None:
    for field in ("BillAddr", "ShipAddr"):
        if field not in obj and field in customer:
            obj[field] = dict(customer[field])
    if "BillEmail" not in obj and "PrimaryEmailAddr" in customer:
        obj["BillEmail"] = dict(customer["PrimaryEmailAddr"])


def _due_date(books: Books, obj: dict) -> None:
    if obj.get("DueDate"):
        obj["DueDate"] = qbo_date(obj["DueDate"], "DueDate").isoformat()
        return
    term = named_ref(books, obj, "SalesTermRef", "Term") if "SalesTermRef" in obj else None
    if term is None:
        party = books.objects["Customer"].get(ref_id(obj, "CustomerRef") or "", {})
        term_id = ref_id(party, "SalesTermRef") or books.default_term_id()
        term = books.objects["Term"].get(term_id or "")
        if term is not None:
            obj["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
    days = int(term.get("DueDays", 0)) if term else 0
    obj["DueDate"] = (qbo_date(obj["TxnDate"], "TxnDate") + timedelta(days=days)).isoformat()


def _tax_detail(books: Books, obj: dict, taxable: float) -> dict:
    code_id = ref_id(obj.get("TxnTaxDetail", {}), "TxnTaxCodeRef")
    if code_id is None and taxable:
        code_id = books.default_tax_code_id()
    if code_id is None:
        return {"TotalTax": 0}
    code = books.get_ref("TaxCode", code_id, "TxnTaxCodeRef")
    lines, total = [], 0.0
    for rate in books.sales_rates(code):
        amount = round(taxable * rate["RateValue"] / 100, 2)
        total += amount
        lines.append(
            {
                "Amount": amount,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate["Id"]},
                    "PercentBased": True,
                    "TaxPercent": rate["RateValue"],
                    "NetAmountTaxable": round(taxable, 2),
                },
            }
        )
    return {"TxnTaxCodeRef": {"value": code_id}, "TotalTax": round(total, 2), "TaxLine": lines}


def _expense_line(books: Books, line: dict) -> float:
    kind = line.get("DetailType")
    if kind == "AccountBasedExpenseLineDetail":
        detail = line.setdefault(kind, {})
        if "AccountRef" not in detail:
            raise exc.RequiredParam("AccountRef")
        named_ref(books, detail, "AccountRef", "Account")
        detail.setdefault("BillableStatus", "NotBillable")
        detail.setdefault("TaxCodeRef", {"value": "NON"})
        line["Amount"] = money(line.get("Amount", 0), "Amount")
    elif kind == "ItemBasedExpenseLineDetail":
        detail = line.setdefault(kind, {})
        named_ref(books, detail, "ItemRef", "Item")
        if "Amount" not in line and "Qty" in detail and "UnitPrice" in detail:
            line["Amount"] = number(detail["Qty"], "Qty") * number(detail["UnitPrice"], "UnitPrice")
        line["Amount"] = money(line.get("Amount", 0), "Amount")
        detail.setdefault("BillableStatus", "NotBillable")
        detail.setdefault("TaxCodeRef", {"value": "NON"})
    else:
        raise exc.InvalidValue(
            "2170", "Invalid Enumeration", f"Invalid Enumeration : {kind}", "DetailType"
        )
    if "CustomerRef" in detail:
        named_ref(books, detail, "CustomerRef", "Customer")
    return line["Amount"]


def _expense_form(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    if "VendorRef" in obj:
        named_ref(books, obj, "VendorRef", "Vendor")
    if et.name == "Purchase":
        named_ref(books, obj, "AccountRef", "Account")
        if obj["PaymentType"] not in ("Cash", "Check", "CreditCard"):
            raise exc.InvalidValue(
                "2170",
                "Invalid Enumeration",
                f"Invalid Enumeration : {obj['PaymentType']}",
                "PaymentType",
            )
        if "EntityRef" in obj:
            kind = obj["EntityRef"].get("type", "Vendor")
            named_ref(
                books, obj, "EntityRef", kind if kind in ("Customer", "Employee") else "Vendor"
            )
            obj["EntityRef"]["type"] = kind
        obj.setdefault("Credit", False)
    lines = obj["Line"]
    total = sum(_expense_line(books, line) for line in lines)
    number_lines(lines, current)
    obj["TotalAmt"] = round(total, 2)
    if et.name in ("Bill", "VendorCredit"):
        if et.name == "Bill":
            applied = books.applied_to("Bill", current["Id"]) if current else 0.0
            if obj["TotalAmt"] + 0.005 < applied:
                raise exc.BusinessRule("The bill total is less than the payments applied to it.")
            obj["Balance"] = round(obj["TotalAmt"] - applied, 2)
            obj["LinkedTxn"] = [dict(x) for x in (current or {}).get("LinkedTxn", [])]
            _bill_due_date(books, obj)
        obj.setdefault("APAccountRef", {"value": books.special_account("AccountsPayable")})
        named_ref(books, obj, "APAccountRef", "Account")
    if et.name == "PurchaseOrder":
        obj.setdefault("POStatus", "Open")


def _bill_due_date(books: Books, obj: dict) -> None:
    if obj.get("DueDate"):
        obj["DueDate"] = qbo_date(obj["DueDate"], "DueDate").isoformat()
        return
    term_id = ref_id(obj, "SalesTermRef")
    term = books.get_ref("Term", term_id, "SalesTermRef") if term_id else None
    days = int(term.get("DueDays", 0)) if term else 30
    obj["DueDate"] = (qbo_date(obj["TxnDate"], "TxnDate") + timedelta(days=days)).isoformat()


FORM_HANDLERS = {
    **dict.fromkeys(SALES_FORMS, _sales_form),
    **dict.fromkeys(EXPENSE_FORMS, _expense_form),
    "JournalEntry": journal_entry,
    "Deposit": deposit,
    "Transfer": transfer,
    "Payment": payment,
    "BillPayment": bill_payment,
}


def voided(entity: str, obj: dict) -> dict:
    """The object after void: amounts and quantities zeroed, "Voided" prepended to PrivateNote."""
    out = dict(obj)
    note = obj.get("PrivateNote")
    out["PrivateNote"] = f"Voided - {note}" if note else "Voided"
    out["TotalAmt"] = 0
    if "HomeTotalAmt" in out:
        out["HomeTotalAmt"] = 0
    if entity in ("Payment", "BillPayment"):
        out["Line"] = []
        if entity == "Payment":
            out["UnappliedAmt"] = 0
        return out
    lines = []
    for original in obj.get("Line", []):
        line = {**original, "Amount": 0}
        if SALES_DETAIL in line:
            line[SALES_DETAIL] = {**line[SALES_DETAIL], "Qty": 0}
        lines.append(line)
    out["Line"] = lines
    out["Balance"] = 0
    if "TxnTaxDetail" in out:
        out["TxnTaxDetail"] = {"TotalTax": 0}
    return out

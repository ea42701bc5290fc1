"""python-quickbooks' write side against the emulator, unchanged.

Real: ``save()`` of a new Customer and Invoice sends every attribute of the client's object
model with its empty defaults (``"DueDate": ""``, ``"SyncToken": 0``, ``"InvoiceLink": ""``...);
the invoice is built from ``SalesItemLine``/``SalesItemLineDetail`` with ``CustomerRef`` from
``customer.to_ref()``. Sparse update, full update via ``save()`` of an object read back,
stale SyncToken (5010), duplicate DisplayName (6240), ``delete()`` of a payment, ``void()``
of an invoice and of a payment (``operation=update&include=void``). Each test checks what the
client returned and the books behind it.
"""

from __future__ import annotations

import json

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine

from qb_pipeline.emulator.books import Books


def new_customer(qb: QuickBooks, name: str) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    customer.GivenName = name.split(maxsplit=1)[0]
    return customer.save(qb=qb)


def new_invoice(qb: QuickBooks, customer: Customer, amounts: list[float]) -> Invoice:
    invoice = Invoice()
    for amount in amounts:
        line = SalesItemLine()
        line.Amount = amount
        line.Description = f"Work worth {amount}"
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = Item.get(1, qb=qb).to_ref()
        line.SalesItemLineDetail.Qty = 1
        line.SalesItemLineDetail.UnitPrice = amount
        invoice.Line.append(line)
    invoice.CustomerRef = customer.to_ref()
    return invoice.save(qb=qb)


def pay(qb: QuickBooks, invoice: Invoice, amount: float) -> Payment:
    payment = Payment()
    payment.TotalAmt = amount
    payment.CustomerRef = invoice.CustomerRef
    line = PaymentLine()
    line.Amount = amount
    line.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line.append(line)
    return payment.save(qb=qb)


def test_create_customer(qb: QuickBooks, books: Books) -> None:
    sent = json.loads(Customer().to_json())
    assert sent["SyncToken"] == 0 and sent["OpenBalanceDate"] == ""  # what the client posts
    customer = new_customer(qb, "Amy's Bird Sanctuary")
    assert customer.Id and customer.SyncToken == "0"
    assert customer.FullyQualifiedName == customer.PrintOnCheckName == "Amy's Bird Sanctuary"
    assert customer.Active is True and customer.Balance == 0
    stored = books.objects["Customer"]
    assert list(stored) == [customer.Id]
    assert stored[customer.Id]["GivenName"] == "Amy's"
    assert "OpenBalanceDate" not in stored[customer.Id]  # "" is no date


def test_create_invoice(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Cool Cars")
    invoice = new_invoice(qb, customer, [100.0, 50.5])
    assert invoice.TotalAmt == 150.5 and invoice.Balance == 150.5
    assert invoice.CustomerRef.value == customer.Id
    assert invoice.CustomerRef.name == "Cool Cars"
    assert invoice.DocNumber and invoice.SyncToken == "0"
    details = [line.DetailType for line in invoice.Line]
    assert details == ["SalesItemLineDetail", "SalesItemLineDetail", "SubTotalLineDetail"]
    assert [line.LineNum for line in invoice.Line[:2]] == [1, 2]
    assert invoice.Line[0].SalesItemLineDetail.ItemRef.value == "1"

    assert list(books.objects["Invoice"]) == [invoice.Id]
    stored = books.objects["Invoice"][invoice.Id]
    assert stored["TotalAmt"] == 150.5 and stored["Balance"] == 150.5
    assert "InvoiceLink" not in stored and stored["DueDate"] > ""  # "" defaults, not stored
    assert books.objects["Customer"][customer.Id]["Balance"] == 150.5
    assert books.objects["Customer"][customer.Id]["SyncToken"] == "0"


def test_sparse_update(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Diego Rodriguez")
    update = Customer()
    update.Id, update.SyncToken, update.sparse = customer.Id, customer.SyncToken, True
    update.CompanyName = "Diego's Road Warrior Bodyshop"
    body = {
        "Id": update.Id,
        "SyncToken": update.SyncToken,
        "sparse": True,
        "CompanyName": update.CompanyName,
    }
    result = qb.update_object("Customer", json.dumps(body))["Customer"]
    assert result["SyncToken"] == "1"
    assert result["CompanyName"] == "Diego's Road Warrior Bodyshop"
    assert result["GivenName"] == "Diego"  # untouched by a sparse update
    stored = books.objects["Customer"][customer.Id]
    assert (stored["SyncToken"], stored["CompanyName"]) == ("1", "Diego's Road Warrior Bodyshop")


def test_full_update_by_save(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Freeman Sporting Goods")
    fetched = Customer.get(customer.Id, qb=qb)
    fetched.Notes = "Pays late"
    saved = fetched.save(qb=qb)
    assert (saved.Id, saved.SyncToken, saved.Notes) == (customer.Id, "1", "Pays late")
    assert books.objects["Customer"][customer.Id]["Notes"] == "Pays late"
    assert books.objects["Customer"][customer.Id]["SyncToken"] == "1"


def test_stale_sync_token(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Sushi by Katsuyuki")
    first = Customer.get(customer.Id, qb=qb)
    second = Customer.get(customer.Id, qb=qb)
    first.Notes = "first writer"
    first.save(qb=qb)
    second.Notes = "second writer"
    with pytest.raises(QuickbooksException) as stale:
        second.save(qb=qb)
    assert stale.value.error_code == 5010
    assert stale.value.message == "Stale Object Error"
    stored = books.objects["Customer"][customer.Id]
    assert (stored["SyncToken"], stored["Notes"]) == ("1", "first writer")


def test_duplicate_name(qb: QuickBooks, books: Books) -> None:
    new_customer(qb, "Cool Cars")
    with pytest.raises(QuickbooksException) as duplicate:
        new_customer(qb, "Cool Cars")
    assert duplicate.value.error_code == 6240
    assert duplicate.value.message == "Duplicate Name Exists Error"
    assert "The name supplied already exists" in duplicate.value.detail
    assert len(books.objects["Customer"]) == 1


def test_delete_payment(qb: QuickBooks, books: Books) -> None:
    invoice = new_invoice(qb, new_customer(qb, "Kookies by Kathy"), [80.0])
    payment = pay(qb, invoice, 30.0)
    assert books.objects["Invoice"][invoice.Id]["Balance"] == 50.0
    answer = payment.delete(qb=qb)
    assert answer["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": payment.Id}
    assert payment.Id not in books.objects["Payment"]
    assert books.objects["Invoice"][invoice.Id]["Balance"] == 80.0
    with pytest.raises(ObjectNotFoundException):
        Payment.get(payment.Id, qb=qb)


def test_delete_invoice(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Jeff's Jalopies")
    invoice = new_invoice(qb, customer, [20.0])
    answer = invoice.delete(qb=qb)
    assert answer["Invoice"]["status"] == "Deleted"
    assert books.objects["Invoice"] == {}
    assert books.objects["Customer"][customer.Id]["Balance"] == 0
    with pytest.raises(ObjectNotFoundException) as again:
        invoice.delete(qb=qb)
    assert again.value.error_code == 610


def test_void_invoice(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Red Rock Diner")
    invoice = new_invoice(qb, customer, [70.0, 5.0])
    answer = invoice.void(qb=qb)["Invoice"]
    assert (answer["TotalAmt"], answer["Balance"], answer["SyncToken"]) == (0, 0, "1")
    assert answer["PrivateNote"].startswith("Voided")
    stored = books.objects["Invoice"][invoice.Id]
    assert stored["TotalAmt"] == 0 and stored["SyncToken"] == "1"
    assert all(line["Amount"] == 0 for line in stored["Line"])
    assert books.objects["Customer"][customer.Id]["Balance"] == 0


def test_void_payment(qb: QuickBooks, books: Books) -> None:
    invoice = new_invoice(qb, new_customer(qb, "Rondonuwu Fruit"), [60.0])
    payment = pay(qb, invoice, 60.0)
    assert books.objects["Invoice"][invoice.Id]["Balance"] == 0
    answer = payment.void(qb=qb)["Payment"]
    assert (answer["TotalAmt"], answer["SyncToken"]) == (0, "1")
    assert answer["PrivateNote"].startswith("Voided")
    assert books.objects["Payment"][payment.Id]["TotalAmt"] == 0
    assert books.objects["Invoice"][invoice.Id]["Balance"] == 60.0

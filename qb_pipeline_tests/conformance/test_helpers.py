"""python-quickbooks' helpers against the emulator, unchanged: CDC, batch, PDF, send.

Real: ``quickbooks.cdc.change_data_capture`` (GET /cdc with a comma list and a changedSince,
as text with an offset or as the client's naive company-time format), deleted objects as
``status: Deleted`` stubs; ``batch_create/batch_update/batch_delete`` with their uuid4 bIds and
per-item faults under HTTP 200; ``invoice.download_pdf`` (``Accept: application/pdf``);
``invoice.send(qb=..., send_to=...)`` (octet-stream POST, url-quoted ``sendTo``).
Faked: the emulator clock is advanced instead of waiting, so CDC windows are exact.
"""

from __future__ import annotations

from quickbooks import QuickBooks
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.clock import COMPANY_TZ
from qb_pipeline_tests.conformance.test_writes import new_customer, new_invoice


def customer_named(name: str) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    return customer


def test_change_data_capture(em: Emulator, qb: QuickBooks, books: Books) -> None:
    amy = new_customer(qb, "Amy's Bird Sanctuary")
    old_invoice = new_invoice(qb, amy, [40.0])
    untouched = new_customer(qb, "Untouched Ltd")
    em.clock.advance(120)
    since = em.clock.now().astimezone(COMPANY_TZ)
    em.clock.advance(1)
    old_invoice.delete(qb=qb)  # also changes Amy's Balance
    em.clock.advance(1)
    cool = new_customer(qb, "Cool Cars")
    new = new_invoice(qb, cool, [15.0])

    cdc = change_data_capture([Customer, Invoice], since.isoformat(timespec="seconds"), qb=qb)
    assert [c.DisplayName for c in cdc.Customer] == ["Amy's Bird Sanctuary", "Cool Cars"]
    assert untouched.Id not in [c.Id for c in cdc.Customer]
    invoices = list(cdc.Invoice)
    # Intuit's reference: within a type, deleted objects come after the active ones
    assert [(i.Id, getattr(i, "status", None)) for i in invoices] == [
        (new.Id, None),
        (old_invoice.Id, "Deleted"),
    ]
    assert invoices[0].TotalAmt == 15.0
    assert old_invoice.Id not in books.objects["Invoice"]
    assert old_invoice.Id in books.tombstones["Invoice"]

    naive = since.replace(tzinfo=None)  # qb_datetime_format: company time, no offset
    again = change_data_capture([Invoice], naive, qb=qb)
    assert [i.Id for i in again.Invoice] == [new.Id, old_invoice.Id]
    em.clock.advance(1)
    quiet = change_data_capture([Customer], em.clock.now().astimezone(COMPANY_TZ), qb=qb)
    assert not hasattr(quiet, "Customer")


def test_batch_create_with_fault(qb: QuickBooks, books: Books) -> None:
    new_customer(qb, "Cool Cars")
    names = ["Batch One", "Cool Cars", "Batch Two"]
    result = batch_create([customer_named(n) for n in names], qb=qb)
    assert [c.DisplayName for c in result.successes] == ["Batch One", "Batch Two"]
    assert len(result.faults) == 1
    fault = result.faults[0]
    assert fault.original_object.DisplayName == "Cool Cars"
    assert [(e.code, e.Message) for e in fault.Error] == [("6240", "Duplicate Name Exists Error")]
    stored = sorted(c["DisplayName"] for c in books.objects["Customer"].values())
    assert stored == ["Batch One", "Batch Two", "Cool Cars"]


def test_batch_update_with_stale_item(qb: QuickBooks, books: Books) -> None:
    first, second = new_customer(qb, "Update One"), new_customer(qb, "Update Two")
    fresh = Customer.get(first.Id, qb=qb)
    stale = Customer.get(second.Id, qb=qb)
    stale.SyncToken = "7"
    fresh.Notes, stale.Notes = "batched", "never"
    result = batch_update([fresh, stale], qb=qb)
    assert [(c.Id, c.SyncToken, c.Notes) for c in result.successes] == [(first.Id, "1", "batched")]
    assert [e.code for e in result.faults[0].Error] == ["5010"]
    assert books.objects["Customer"][first.Id]["Notes"] == "batched"
    assert books.objects["Customer"][second.Id]["SyncToken"] == "0"
    assert "Notes" not in books.objects["Customer"][second.Id]


def test_batch_delete_with_missing_item(qb: QuickBooks, books: Books) -> None:
    customer = new_customer(qb, "Delete Me Inc")
    keep, drop, gone = (new_invoice(qb, customer, [n]) for n in (10.0, 20.0, 30.0))
    gone.delete(qb=qb)
    result = batch_delete([drop, gone], qb=qb)
    assert [(i.Id, i.status) for i in result.successes] == [(drop.Id, "Deleted")]
    assert [e.code for e in result.faults[0].Error] == ["610"]
    assert list(books.objects["Invoice"]) == [keep.Id]
    assert books.objects["Customer"][customer.Id]["Balance"] == 10.0


def test_download_pdf(qb: QuickBooks, books: Books) -> None:
    invoice = new_invoice(qb, new_customer(qb, "Pdf Customer"), [12.5])
    pdf = invoice.download_pdf(qb=qb)
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert books.objects["Invoice"][invoice.Id]["SyncToken"] == "0"  # reading changes nothing


def test_send_invoice(qb: QuickBooks, books: Books) -> None:
    invoice = new_invoice(qb, new_customer(qb, "Mail Me"), [99.0])
    sent = invoice.send(qb=qb, send_to="billing+ar@example.com")["Invoice"]
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["BillEmail"] == {"Address": "billing+ar@example.com"}
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    stored = books.objects["Invoice"][invoice.Id]
    assert (stored["EmailStatus"], stored["SyncToken"]) == ("EmailSent", "1")
    assert stored["BillEmail"]["Address"] == "billing+ar@example.com"

"""Invoice PDFs: structure checked byte by byte (xref offsets, startxref, stream length), text
checked in the uncompressed content stream, and through poppler's pdftotext when installed.

Real: what a PDF 1.4 reader requires. Faked: nothing; the invoice dicts are hand-made.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qb_pipeline.emulator.pdf import pdf_escape, render_invoice_pdf

INVOICE = {
    "Id": "130",
    "DocNumber": "1037",
    "TxnDate": "2023-02-18",
    "DueDate": "2023-03-20",
    "CustomerRef": {"value": "3", "name": "Cool Cars"},
    "BillAddr": {
        "Line1": "65 Ocean Dr.",
        "City": "Half Moon Bay",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94213",
    },
    "Line": [
        {
            "Description": "Sprinkler Heads",
            "Amount": 20.0,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "16"}, "UnitPrice": 2, "Qty": 10},
        },
        {
            "Description": "Sod",
            "Amount": 2174.0,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "14"}, "UnitPrice": 43.48, "Qty": 50},
        },
        {"Amount": 2194.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ],
    "TxnTaxDetail": {"TotalTax": 175.52},
    "TotalAmt": 2369.52,
    "Balance": 1369.52,
    "CustomerMemo": {"value": "Thank you (truly) for your business \\ see you"},
}


def content_of(pdf: bytes) -> bytes:
    match = re.search(rb"<< /Length (\d+) >>\nstream\n", pdf)
    assert match is not None
    start = match.end()
    stream = pdf[start : start + int(match.group(1))]
    assert pdf[start + int(match.group(1)) :].startswith(b"\nendstream")
    return stream


@pytest.fixture
def pdf() -> bytes:
    return render_invoice_pdf(
        INVOICE,
        company_name="Craig's Design & Landscaping",
        customer={"Id": "3", "DisplayName": "Cool Cars"},
    )


def test_header_trailer_and_xref_offsets(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 8\n")
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) \n", pdf[startxref:])
    assert entries[0] == (b"0000000000", b"65535", b"f")
    assert len(entries) == 8
    for number, (offset, _, _) in enumerate(entries[1:], start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj\n".encode())
    assert b"trailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R >>" in pdf


def test_content_stream_holds_the_invoice(pdf: bytes) -> None:
    stream = content_of(pdf)
    for text in (
        b"(Craig's Design & Landscaping)",
        b"(INVOICE)",
        b"(1037)",
        b"(2023-02-18)",
        b"(2023-03-20)",
        b"(Cool Cars)",
        b"(65 Ocean Dr.)",
        b"(Half Moon Bay CA 94213)",
        b"(Sprinkler Heads)",
        b"(10)",
        b"(43.48)",
        b"(2,174.00)",
        b"(2,194.00)",
        b"(175.52)",
        b"(2,369.52)",
        b"(1,369.52)",
        b"(Balance due)",
    ):
        assert text in stream, text
    assert b"/F1 10 Tf" in stream and b"/F2 20 Tf" in stream
    assert rb"(Thank you \(truly\) for your business \\ see you)" in stream


def test_text_escaping_and_non_latin1() -> None:
    assert pdf_escape("a(b)c\\d") == r"a\(b\)c\\d"
    assert pdf_escape("café") == r"caf\351"
    assert pdf_escape("東京 — ok\n") == "?? ? ok "


def test_output_is_deterministic_ascii_after_the_binary_comment(pdf: bytes) -> None:
    again = render_invoice_pdf(
        INVOICE,
        company_name="Craig's Design & Landscaping",
        customer={"Id": "3", "DisplayName": "Cool Cars"},
    )
    assert again == pdf
    body = pdf.split(b"\n", 2)[2]
    assert body.decode("ascii")  # raises if any raw non-ASCII byte slipped in


def test_long_invoices_stay_on_one_page() -> None:
    line = {
        "Description": "Hedge trimming " * 8,
        "Amount": 5.0,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": {"value": "1", "name": "Hedge"},
            "UnitPrice": 5,
            "Qty": 1,
        },
    }
    invoice = {**INVOICE, "Line": [line] * 80, "TotalAmt": 400.0, "Balance": 400.0}
    pdf = render_invoice_pdf(invoice, company_name="Co", customer=None)
    stream = content_of(pdf)
    assert b"/Count 1" in pdf
    match = re.search(rb"\(\.\.\. and (\d+) more lines\)", stream)
    assert match is not None
    shown = stream.count(b"(Hedge trimming Hedge trimming")
    assert shown + int(match.group(1)) == 80
    ys = [float(y) for y in re.findall(rb" ([\d.]+) Td", stream)]
    assert min(ys) >= 50


@pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (poppler-utils) is not installed on this machine",
)
def test_pdftotext_extracts_the_text(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for expected in ("INVOICE", "1037", "Cool Cars", "2,369.52", "Balance due"):
        assert expected in text

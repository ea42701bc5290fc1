"""Invoice PDFs for ``GET /invoice/{id}/pdf``: a small, valid PDF 1.4 written by hand.

Real: QBO answers ``200 application/pdf`` with a body starting ``%PDF-1.4`` (API_FACTS 1.16).
Faked: the layout is ours, not QBO's template: one US Letter page with the company name,
"INVOICE", number, dates, bill-to block, one row per line (description, qty, rate, amount),
subtotal, discount, tax, total, balance due and the customer memo, in the standard Helvetica
fonts (WinAnsi, no embedding). Text outside Latin-1 becomes "?". Lines that do not fit are
summarised as "... and N more lines". The output is deterministic (no creation date).
Not implemented: logos, custom fields, shipping address, payment stubs, compression.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qb_pipeline.emulator.ledger import flat_lines
from qb_pipeline.emulator.ledger_accounts import cents, money

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
LEFT, RIGHT = 50, 562
BOTTOM = 60
MAX_DESCRIPTION = 60
# Helvetica advance widths (per 1000 em) for the characters of amounts; others ~556.
_HELVETICA_WIDTHS = {",": 278, ".": 278, "-": 333, " ": 278, "$": 556}


@dataclass(frozen=True)
class TextRun:
    """One positioned string on the page."""

    x: float
    y: float
    text: str
    size: float = 10
    bold: bool = False


def pdf_escape(text: str) -> str:
    """A PDF literal string body: Latin-1 only, parentheses/backslashes escaped, 7-bit safe."""
    out = []
    for char in text:
        code = ord(char) if ord(char) < 256 else ord("?")
        if char in "()\\":
            out.append("\\" + char)
        elif code < 32:
            out.append(" ")
        elif code > 126:
            out.append(f"\\{code:03o}")
        else:
            out.append(chr(code))
    return "".join(out)


def text_width(text: str, size: float) -> float:
    """Approximate Helvetica width in points (exact for digits and amount punctuation)."""
    return sum(_HELVETICA_WIDTHS.get(c, 556) for c in text) * size / 1000


def amount_text(value: Any) -> str:
    """1234.5 -> "1,234.50"."""
    return f"{cents(money(value)):,.2f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _right(x: float, y: float, text: str, size: float = 10, bold: bool = False) -> TextRun:
    return TextRun(x - text_width(text, size), y, text, size, bold)


def _bill_to(invoice: Mapping[str, Any], customer: Mapping[str, Any] | None) -> list[str]:
    """Customer name, then the billing address (the invoice's, else the customer's)."""
    customer = customer or {}
    name = customer.get("DisplayName") or (invoice.get("CustomerRef") or {}).get("name")
    address = invoice.get("BillAddr") or customer.get("BillAddr") or {}
    city = " ".join(
        str(address[k]) for k in ("City", "CountrySubDivisionCode", "PostalCode") if address.get(k)
    )
    lines = [str(address.get(k) or "") for k in ("Line1", "Line2", "Line3", "Line4")]
    result: list[str] = []
    for line in [str(name or ""), *lines, city]:
        if line and line not in result:
            result.append(line)
    return result


def _line_rows(invoice: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(description, qty, rate, amount) for each printable line."""
    for line in flat_lines(invoice):
        kind = line.get("DetailType")
        detail = line.get(kind) if isinstance(line.get(kind), Mapping) else {}
        description = str(line.get("Description") or "")
        if kind == "SalesItemLineDetail":
            item = (detail.get("ItemRef") or {}).get("name") or ""
            qty = detail.get("Qty")
            rate = detail.get("UnitPrice")
            yield (
                description or str(item),
                "" if qty is None else f"{money(qty).normalize():f}",
                "" if rate is None else amount_text(rate),
                amount_text(line.get("Amount")),
            )
        elif kind == "DescriptionOnly" and description:
            yield description, "", "", ""


def _header_runs(invoice: Mapping[str, Any], company_name: str) -> list[TextRun]:
    top = PAGE_HEIGHT - 60
    runs = [
        TextRun(LEFT, top, company_name, 18, bold=True),
        _right(RIGHT, top, "INVOICE", 20, bold=True),
    ]
    facts = [
        ("Invoice #", str(invoice.get("DocNumber") or invoice.get("Id") or "")),
        ("Date", str(invoice.get("TxnDate") or "")),
        ("Due date", str(invoice.get("DueDate") or "")),
    ]
    for i, (label, value) in enumerate(facts):
        y = top - 30 - 14 * i
        runs += [TextRun(380, y, f"{label}:", bold=True), TextRun(450, y, value)]
    return runs


def _table_runs(rows: list[tuple[str, str, str, str]], y: float) -> tuple[list[TextRun], float]:
    runs = [
        TextRun(LEFT, y, "Description", bold=True),
        _right(380, y, "Qty", bold=True),
        _right(470, y, "Rate", bold=True),
        _right(RIGHT, y, "Amount", bold=True),
    ]
    room = int((y - 14 - BOTTOM - 110) // 14)
    shown = rows if len(rows) <= room else rows[: max(room - 1, 0)]
    for description, qty, rate, amount in shown:
        y -= 14
        shortened = _shorten(description, MAX_DESCRIPTION)
        runs += [TextRun(LEFT, y, shortened), _right(380, y, qty)]
        runs += [_right(470, y, rate), _right(RIGHT, y, amount)]
    if len(shown) < len(rows):
        y -= 14
        runs.append(TextRun(LEFT, y, f"... and {len(rows) - len(shown)} more lines"))
    return runs, y


def _totals(invoice: Mapping[str, Any]) -> list[tuple[str, str]]:
    lines = list(flat_lines(invoice))
    subtotal = sum(
        (money(x.get("Amount")) for x in lines if x.get("DetailType") == "SalesItemLineDetail"),
        Decimal(0),
    )
    discount = sum(
        (money(x.get("Amount")) for x in lines if x.get("DetailType") == "DiscountLineDetail"),
        Decimal(0),
    )
    currency = (invoice.get("CurrencyRef") or {}).get("value") or ""
    rows = [("Subtotal", amount_text(subtotal))]
    if discount:
        rows.append(("Discount", "-" + amount_text(discount)))
    rows.append(("Tax", amount_text((invoice.get("TxnTaxDetail") or {}).get("TotalTax"))))
    total_label = f"Total ({currency})" if currency and currency != "USD" else "Total"
    rows.append((total_label, amount_text(invoice.get("TotalAmt"))))
    rows.append(("Balance due", amount_text(invoice.get("Balance", invoice.get("TotalAmt")))))
    return rows


def page_runs(
    invoice: Mapping[str, Any], company_name: str, customer: Mapping[str, Any] | None
) -> list[TextRun]:
    """Everything printed on the invoice page, top to bottom."""
    runs = _header_runs(invoice, company_name)
    y = PAGE_HEIGHT - 90
    runs.append(TextRun(LEFT, y, "Bill to", bold=True))
    for line in _bill_to(invoice, customer):
        y -= 13
        runs.append(TextRun(LEFT, y, line))
    table, y = _table_runs(list(_line_rows(invoice)), min(y, PAGE_HEIGHT - 150) - 30)
    runs += table
    y -= 10
    for label, value in _totals(invoice):
        y -= 14
        bold = label.startswith(("Total", "Balance"))
        runs += [_right(470, y, label, bold=bold), _right(RIGHT, y, value, bold=bold)]
    memo = (invoice.get("CustomerMemo") or {}).get("value")
    if memo:
        runs.append(TextRun(LEFT, max(y - 30, BOTTOM), _shorten(str(memo), 100), 9))
    return runs


def content_stream(runs: list[TextRun]) -> bytes:
    """The page's content stream: one BT/ET block per run (F1 Helvetica, F2 Helvetica-Bold)."""
    ops = [f"0 0 0 rg\n{LEFT} {PAGE_HEIGHT - 70} m {RIGHT} {PAGE_HEIGHT - 70} l 0.5 w S"]
    for run in runs:
        font = "F2" if run.bold else "F1"
        ops.append(
            f"BT /{font} {run.size:g} Tf {run.x:.2f} {run.y:.2f} Td ({pdf_escape(run.text)}) Tj ET"
        )
    return "\n".join(ops).encode("ascii")


def assemble_pdf(objects: list[bytes]) -> bytes:
    """Header, numbered objects, xref table with exact byte offsets, trailer, %%EOF."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 7 0 R >>\n".encode()
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def render_invoice_pdf(invoice: dict, *, company_name: str, customer: dict | None) -> bytes:
    """The invoice as a one-page PDF 1.4 document."""
    stream = content_stream(page_runs(invoice, company_name, customer))
    title = pdf_escape(f"Invoice {invoice.get('DocNumber') or invoice.get('Id') or ''}")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
        f"<< /Title ({title}) /Producer (qb-pipeline QBO emulator) >>".encode(),
    ]
    return assemble_pdf(objects)

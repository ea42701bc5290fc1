"""AgedReceivables and AgedPayables summaries: open invoice/bill balances by days past due.

Real: columns ("" customer/vendor, Current, 1 - 30, 31 - 60, 61 - 90, 91 and over, Total for
the default aging_period=30, num_periods=4), one data row per customer/vendor with "" in empty
cells, a ``GrandTotal`` section with a "TOTAL" summary, ``report_date`` in the header Option
list; days past due counted from DueDate (TxnDate when absent) to report_date; amounts in home
currency. Faked / simplified: only open invoices (AgedReceivables) and open bills
(AgedPayables) are aged; unapplied payments, unapplied credit memos and vendor credits are not
netted in (so the total equals the A/R or A/P balance only when there are none). The balance
at report_date is the object's current Balance plus payments dated after report_date that
applied to it. Jobs (sub-customers) are listed flat, not nested under their parent. Column
ColKeys ("current", "0".."n", "total") are our guess. No ReportBasis in the header, as in
the recorded sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from qb_pipeline.emulator.ledger_accounts import ZERO, cents, money, ref_id, txn_date
from qb_pipeline.emulator.reports_context import ReportContext
from qb_pipeline.emulator.reports_params import AgingOptions, aging_options, id_filter
from qb_pipeline.emulator.reports_rows import (
    Row,
    cell,
    column,
    data_row,
    fmt,
    fmt_or_blank,
    section,
)


@dataclass(frozen=True)
class AgingKind:
    """What differs between receivables and payables."""

    document: str  # Invoice / Bill
    payment: str  # Payment / BillPayment
    party_entity: str  # Customer / Vendor
    party_ref: str  # CustomerRef / VendorRef
    filter_param: str  # customer / vendor


RECEIVABLES = AgingKind("Invoice", "Payment", "Customer", "CustomerRef", "customer")
PAYABLES = AgingKind("Bill", "BillPayment", "Vendor", "VendorRef", "vendor")


def bucket_titles(options: AgingOptions) -> list[str]:
    """Current, then num_periods buckets: 1 - 30, 31 - 60, 61 - 90, 91 and over (30 x 4)."""
    step, count = options.aging_period, options.num_periods
    ranges = [f"{i * step + 1} - {(i + 1) * step}" for i in range(count - 1)]
    return ["Current", *ranges, f"{(count - 1) * step + 1} and over"]


def bucket_index(days_past_due: int, options: AgingOptions) -> int:
    """0 for current, 1..num_periods for the buckets (the last one open-ended)."""
    if days_past_due <= 0:
        return 0
    return min((days_past_due - 1) // options.aging_period + 1, options.num_periods)


def _paid_after(ctx: ReportContext, kind: AgingKind, report_date: date) -> dict[str, Decimal]:
    """Per document Id: amounts applied by payments dated after report_date."""
    later: dict[str, Decimal] = {}
    for payment in (ctx.objects.get(kind.payment) or {}).values():
        if txn_date(payment) <= report_date:
            continue
        for line in payment.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == kind.document:
                    doc_id = str(link.get("TxnId"))
                    later[doc_id] = later.get(doc_id, ZERO) + money(line.get("Amount"))
    return later


def open_balances(
    ctx: ReportContext, kind: AgingKind, options: AgingOptions
) -> list[tuple[Mapping[str, Any], Decimal]]:
    """(document, home-currency open balance at report_date) for every document still open."""
    later = _paid_after(ctx, kind, options.report_date)
    result = []
    for doc in (ctx.objects.get(kind.document) or {}).values():
        if txn_date(doc) > options.report_date:
            continue
        balance = money(doc.get("Balance")) + later.get(str(doc.get("Id")), ZERO)
        rate = money(doc.get("ExchangeRate")) or Decimal(1)
        home = cents(balance * rate)
        if home > 0:
            result.append((doc, home))
    return result


def _party_name(ctx: ReportContext, kind: AgingKind, doc: Mapping[str, Any]) -> str:
    party_id = ref_id(doc, kind.party_ref)
    party = (ctx.objects.get(kind.party_entity) or {}).get(party_id) or {}
    ref = doc.get(kind.party_ref) or {}
    return str(party.get("DisplayName") or ref.get("name") or party_id)


def _aging_rows(ctx: ReportContext, kind: AgingKind, options: AgingOptions) -> list[Row]:
    wanted = id_filter(ctx.params, kind.filter_param)
    width = options.num_periods + 1
    by_party: dict[str, tuple[str, list[Decimal]]] = {}
    for doc, balance in open_balances(ctx, kind, options):
        party_id = ref_id(doc, kind.party_ref)
        if wanted and party_id not in wanted:
            continue
        due = _due_date(doc)
        name, cells = by_party.setdefault(party_id, (_party_name(ctx, kind, doc), [ZERO] * width))
        cells[bucket_index((options.report_date - due).days, options)] += balance
    rows: list[Row] = []
    totals = [ZERO] * width
    for party_id, (name, cells) in sorted(by_party.items(), key=lambda kv: kv[1][0].lower()):
        amounts = [cell(fmt_or_blank(a)) for a in cells]
        rows.append(data_row([cell(name, party_id), *amounts, cell(fmt(sum(cells, ZERO)))]))
        totals = [t + a for t, a in zip(totals, cells, strict=True)]
    summary = [cell("TOTAL"), *(cell(fmt(t)) for t in totals), cell(fmt(sum(totals, ZERO)))]
    rows.append(section("GrandTotal", summary=summary))
    return rows


def _due_date(doc: Mapping[str, Any]) -> date:
    try:
        return date.fromisoformat(str(doc.get("DueDate"))[:10])
    except ValueError:
        return txn_date(doc)


def _aged(ctx: ReportContext, kind: AgingKind) -> dict:
    period = ctx.period(default_macro="Today")
    options = aging_options(ctx.params, period)
    rows = _aging_rows(ctx, kind, options)
    options_list = [
        {"Name": "report_date", "Value": options.report_date.isoformat()},
        {"Name": "NoReportData", "Value": "false" if len(rows) > 1 else "true"},
    ]
    keys = ["current", *(str(i) for i in range(options.num_periods))]
    columns = [
        column("", kind.party_entity, kind.party_entity.lower()),
        *(column(t, "Money", k) for t, k in zip(bucket_titles(options), keys, strict=True)),
        column("Total", "Money", "total"),
    ]
    return {
        "Header": ctx.header(period, options_list),
        "Columns": {"Column": columns},
        "Rows": {"Row": rows},
    }


def aged_receivables(ctx: ReportContext) -> dict:
    """A/R aging summary by customer."""
    return _aged(ctx, RECEIVABLES)


def aged_payables(ctx: ReportContext) -> dict:
    """A/P aging summary by vendor."""
    return _aged(ctx, PAYABLES)

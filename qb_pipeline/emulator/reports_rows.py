"""Building blocks of QBO report JSON: money strings, columns, data rows, sections, account trees.

Real (recorded QBO reports): every amount is a string with two decimals; a data row is
``{"ColData": [{"value": name, "id": Id}, {"value": "12.50"}], "type": "Data"}``; a section is
``{"Header": {...}, "Rows": {"Row": [...]}, "Summary": {...}, "type": "Section", "group": ...}``
with absent parts left out; a parent account with active sub-accounts becomes a section headed
by the parent, with its own amount as a data row and a "Total <parent>" summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from qb_pipeline.emulator.ledger_accounts import ZERO, cents, ref_id

Row = dict[str, Any]


def fmt(amount: Decimal) -> str:
    """Two-decimal string, never "-0.00"."""
    rounded = cents(amount)
    return f"{rounded if rounded else ZERO:.2f}"


def fmt_or_blank(amount: Decimal) -> str:
    """Amount string, or "" for zero (how QBO leaves empty cells)."""
    return fmt(amount) if cents(amount) else ""


def column(title: str, col_type: str, key: str) -> dict[str, Any]:
    return {"ColTitle": title, "ColType": col_type, "MetaData": [{"Name": "ColKey", "Value": key}]}


def cell(value: str, cell_id: str | None = None) -> dict[str, str]:
    return {"value": value} if cell_id is None else {"value": value, "id": cell_id}


def data_row(cells: Sequence[dict[str, str]], group: str | None = None) -> Row:
    row: Row = {"ColData": list(cells), "type": "Data"}
    if group:
        row["group"] = group
    return row


def section(
    group: str | None,
    *,
    header: Sequence[dict[str, str]] | None = None,
    rows: Sequence[Row] | None = None,
    summary: Sequence[dict[str, str]] | None = None,
) -> Row:
    """A ``Section`` row; Header/Rows/Summary appear only when given (Rows only when non-empty)."""
    row: Row = {}
    if header is not None:
        row["Header"] = {"ColData": list(header)}
    if rows:
        row["Rows"] = {"Row": list(rows)}
    if summary is not None:
        row["Summary"] = {"ColData": list(summary)}
    row["type"] = "Section"
    if group:
        row["group"] = group
    return row


def labelled(label: str, amount: Decimal | None) -> list[dict[str, str]]:
    """``[label, amount]`` cells; amount None renders "" (a report with no data)."""
    return [cell(label), cell("" if amount is None else fmt(amount))]


def _name(accounts: Mapping[str, Mapping[str, Any]], account_id: str) -> str:
    account = accounts.get(account_id) or {}
    return str(account.get("Name") or account.get("FullyQualifiedName") or account_id)


class AccountTree:
    """Renders accounts with amounts as QBO nests them: sub-accounts inside their parent."""

    def __init__(
        self, accounts: Mapping[str, Mapping[str, Any]], amounts: Mapping[str, Decimal]
    ) -> None:
        self._accounts = accounts
        self._amounts = amounts
        nodes = set(amounts)
        for account_id in list(nodes):
            nodes.update(self._ancestors(account_id))
        self._children: dict[str | None, list[str]] = {}
        for account_id in nodes:
            parent = ref_id(accounts.get(account_id), "ParentRef")
            key = parent if parent in nodes and parent != account_id else None
            self._children.setdefault(key, []).append(account_id)
        for kids in self._children.values():
            kids.sort(key=lambda a: (_name(accounts, a).lower(), a))

    def _ancestors(self, account_id: str) -> Iterable[str]:
        seen: set[str] = set()
        parent = ref_id(self._accounts.get(account_id), "ParentRef")
        while parent and parent in self._accounts and parent not in seen:
            seen.add(parent)
            yield parent
            parent = ref_id(self._accounts.get(parent), "ParentRef")

    def rows(self) -> tuple[list[Row], Decimal]:
        """The rendered rows and their grand total."""
        rendered = [self._render(a) for a in self._children.get(None, [])]
        return [row for row, _ in rendered], sum((t for _, t in rendered), ZERO)

    def _render(self, account_id: str) -> tuple[Row, Decimal]:
        name = _name(self._accounts, account_id)
        own = self._amounts.get(account_id)
        kids = self._children.get(account_id, [])
        if not kids:
            return data_row([cell(name, account_id), cell(fmt(own or ZERO))]), own or ZERO
        rows = [data_row([cell(name, account_id), cell(fmt(own))])] if own is not None else []
        total = own or ZERO
        for kid in kids:
            row, amount = self._render(kid)
            rows.append(row)
            total += amount
        head = [cell(name, account_id), cell("")]
        return section(
            None, header=head, rows=rows, summary=labelled(f"Total {name}", total)
        ), total

"""Helpers shared by the transaction forms: named refs and line numbering.

Real: QBO resolves a ref's ``name`` on output and numbers lines (``Id``, ``LineNum``); a full
update that sends a line without an Id gets a new Id after the highest used (VCR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qb_pipeline.emulator.fields import ref_id

if TYPE_CHECKING:
    from qb_pipeline.emulator.books import Books


def named_ref(books: Books, obj: dict, field: str, entity: str) -> dict | None:
    ref = ref_id(obj, field)
    if ref is None:
        return None
    target = books.get_ref(entity, ref, field)
    name = target.get("DisplayName") or target.get("FullyQualifiedName") or target.get("Name")
    obj[field] = {"value": ref, "name": name} if name else {"value": ref}
    return target


def number_lines(lines: list[dict], current: dict | None, first: int = 1) -> None:
    used = [
        int(line["Id"])
        for line in (current or {}).get("Line", [])
        if str(line.get("Id", "")).isdigit()
    ]
    next_id = max(used, default=first - 1) + 1
    for num, line in enumerate(lines, start=1):
        if not str(line.get("Id", "")).isdigit() or current is None:
            line["Id"] = str(next_id if current is not None else num - 1 + first)
            next_id += 1
        line["LineNum"] = num

"""Answering /query: parse, filter and sort once per books version, then page.

Real: the QueryResponse envelope rules (API_FACTS 1.13): rows under the canonical entity
name with ``startPosition`` and ``maxResults`` = rows returned; nothing but ``{}`` when no row
matches; only ``totalCount`` for COUNT(*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qb_pipeline.emulator.entities import ENTITY_TYPES, Kind
from qb_pipeline.emulator.query import page_rows, parse_query, select_rows

if TYPE_CHECKING:
    from qb_pipeline.emulator.backend import Emulator
    from qb_pipeline.emulator.books import Books


def run_query_text(emulator: Emulator, books: Books, text: str) -> dict[str, Any]:
    """The QueryResponse object for one query text."""
    query = parse_query(text)
    et = ENTITY_TYPES[query.entity]

    def compute() -> list[dict]:
        with books.lock:
            rows = list(books.objects[query.entity].values())
        return select_rows(
            query, rows, name_list=et.kind == Kind.NAME_LIST, name_field=et.name_field
        )

    with books.lock:
        version = books.version
    rows = emulator.cached_rows((books.realm_id, version, query.cache_key), compute)
    if query.count:
        return {"totalCount": len(rows)}
    page = page_rows(query, rows)
    if not page:
        return {}
    return {query.entity: page, "startPosition": query.start_position, "maxResults": len(page)}

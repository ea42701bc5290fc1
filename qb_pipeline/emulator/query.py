"""QBO queries over the emulator's stored objects: parse, filter, order, page.

Real: everything the parser accepts (see ``query_parser``); name lists hide ``Active = false``
rows unless a condition names ``Active``; STARTPOSITION is 1-based (0 counts as 1), MAXRESULTS
defaults to 100; COUNT(*) ignores paging; the default order is ``FullyQualifiedName`` in byte
order for name lists and ``MetaData.LastUpdatedTime`` newest first for everything else.
Faked (inferred from a few recordings, API_FACTS 2.2): the default order itself, ties broken by
numeric Id ascending so that pages never overlap or skip, rows missing an ORDER BY field sorting
first in either direction.
Not implemented: projections (``SELECT Id, Name`` answers full objects, as ``SELECT *``).

A caller pages one query many times; ``select_rows`` does the expensive part (filter + sort) and
its result may be cached under ``query.cache_key`` until the entity's rows change::

    query = parse_query("SELECT * FROM Invoice STARTPOSITION 1001 MAXRESULTS 1000")
    rows = cache.get(query.cache_key) or select_rows(query, books.invoices, name_list=False)
    page = page_rows(query, rows)          # rows 1001..2000
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from qb_pipeline.emulator.query_parser import (
    DEFAULT_MAX_RESULTS,
    MAX_MAX_RESULTS,
    Condition,
    Literal,
    OrderTerm,
    Query,
    parse_query,
)
from qb_pipeline.emulator.query_values import (
    MISSING,
    Getter,
    Predicate,
    compile_condition,
    is_id_like,
    looks_like_datetime,
    make_getter,
    number_of,
    stamp_sort_keys,
    utc_naive,
)

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_MAX_RESULTS",
    "Condition",
    "Literal",
    "OrderTerm",
    "Query",
    "compile_filter",
    "page_rows",
    "parse_query",
    "select_rows",
]

logger = logging.getLogger(__name__)

_NO_ID = 1 << 62  # rows without a numeric Id sort after all others on ties
_NAME_FIELDS = ("FullyQualifiedName", "DisplayName", "Name")
SortSpec = tuple[Getter, bool, bool]  # getter, descending, id-like


def select_rows(
    query: Query, rows: Iterable[dict], *, name_list: bool, name_field: str | None = None
) -> list[dict]:
    """The rows ``query`` selects, in its order, before paging (unsorted for COUNT(*))."""
    matches = _filtered(query, rows, name_list)
    logger.debug(
        "%s: %d rows match %d conditions", query.entity, len(matches), len(query.conditions)
    )
    if query.count:
        return matches
    return _ordered(matches, _sort_specs(query, name_list, name_field))


def page_rows(query: Query, rows: list[dict]) -> list[dict]:
    """The page STARTPOSITION/MAXRESULTS cut from ``select_rows``' answer."""
    start = query.start_position - 1
    return rows[start : start + query.max_results]


@lru_cache(maxsize=512)
def compile_filter(conditions: tuple[Condition, ...]) -> Predicate | None:
    """One predicate for all conditions (AND), or None when there are none."""
    predicates = [compile_condition(condition) for condition in conditions]
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda row: first(row) and second(row)
    return lambda row: all(predicate(row) for predicate in predicates)


def _filtered(query: Query, rows: Iterable[dict], name_list: bool) -> list[dict]:
    if name_list and not query.mentions_active:
        rows = [row for row in rows if row.get("Active") is not False]
    predicate = compile_filter(query.conditions)
    if predicate is None:
        return list(rows)
    return [row for row in rows if predicate(row)]


def _sort_specs(query: Query, name_list: bool, name_field: str | None) -> list[SortSpec]:
    if query.order_by:
        return [(make_getter(t.path), t.descending, is_id_like(t.path)) for t in query.order_by]
    if name_list:
        return [(_name_getter(name_field), False, False)]
    return [(make_getter(("MetaData", "LastUpdatedTime")), True, False)]


def _name_getter(name_field: str | None) -> Getter:
    """FullyQualifiedName, else the entity's name field, else DisplayName or Name."""
    names = dict.fromkeys((_NAME_FIELDS[0], name_field, *_NAME_FIELDS[1:]))
    getters = [make_getter((name,)) for name in names if name]

    def get(row: dict) -> Any:
        for getter in getters:
            value = getter(row)
            if value is not MISSING:
                return value
        return MISSING

    return get


def _ordered(rows: list[dict], specs: list[SortSpec]) -> list[dict]:
    """Sort by the terms, ties by numeric Id; rows are touched as few times as possible
    (at 100k rows every pass over them costs tens of milliseconds in cache misses)."""
    keys = [sort_keys([get(row) for row in rows], desc, id_like) for get, desc, id_like in specs]
    if len(specs) == 1 and len(set(keys[0])) == len(rows):  # no ties: one keyed sort
        # list.sort calls the key once per item, in list order, before it sorts anything;
        # handing out the precomputed keys saves re-indexing (and touching) every row.
        following = iter(keys[0]).__next__
        ordered = list(rows)
        ordered.sort(key=lambda _row: following(), reverse=specs[0][1])
        return ordered
    order = sorted(range(len(rows)), key=_id_keys(rows).__getitem__)
    for term_keys, (_get, descending, _id_like) in reversed(list(zip(keys, specs, strict=True))):
        order.sort(key=term_keys.__getitem__, reverse=descending)
    return [rows[index] for index in order]


def _id_keys(rows: list[dict]) -> list[int]:
    try:
        return [int(row["Id"]) for row in rows]
    except (KeyError, ValueError, TypeError, OverflowError):
        return [_id_key(row) for row in rows]


def _id_key(row: dict) -> int:
    try:
        return int(row["Id"])
    except (KeyError, ValueError, TypeError, OverflowError):
        return _NO_ID


def sort_keys(values: list[Any], descending: bool, id_like: bool) -> list[Any]:
    """Comparable keys for one ORDER BY term; plain values when the column is homogeneous."""
    kinds = set(map(type, values))
    if kinds == {str}:
        keys = _text_keys(values, id_like)
        if keys is not None:
            return keys
    elif kinds == {bool} or (kinds and kinds <= {int, float}):
        return values
    missing_rank = 9 if descending else -1  # missing values first in either direction
    return [_ranked(value, id_like, missing_rank) for value in values]


def _text_keys(values: list[str], id_like: bool) -> list[Any] | None:
    """Keys for a column of text, or None when it mixes datetimes with other text.
    A column is judged by its first value: QBO fields hold one kind of text."""
    if looks_like_datetime(values[0]):
        return stamp_sort_keys(values)
    if id_like and all(value.isascii() and value.isdigit() for value in values):
        return [int(value) if len(value) < 4000 else _NO_ID for value in values]
    return values


def _ranked(value: Any, id_like: bool, missing_rank: int) -> tuple[int, Any]:
    kind = type(value)
    if value is MISSING:
        return (missing_rank, 0)
    if kind is bool:
        return (1, value)
    if kind is int or kind is float:
        return (2, value)
    if kind is not str:
        return (5, 0)
    if looks_like_datetime(value) and (instant := utc_naive(value)) is not None:
        return (3, instant)
    if id_like and (number := number_of(value)) is not None:
        return (2, number)
    return (4, value)

"""QBO queries: a small builder with QBO's quoting, and the pager that walks their pages.

QBO's query language (API_FACTS 2) quotes strings in single quotes and escapes an apostrophe
inside with a backslash (``'Amy\\'s Bird Sanctuary'``); nothing else is escaped and doubling
``''`` is not an escape. A value ending in a backslash cannot be written at all (the backslash
would escape the closing quote; QBO's lexer fails), so ``quote`` refuses it. Booleans are bare
``true``/``false``, numbers bare, dates and datetimes ISO-8601 in quotes. Name lists answer
only active rows unless the WHERE mentions ``Active``, so ``select`` adds
``Active IN (true, false)`` to them unless asked not to.

Only ``AND`` exists (no OR, NOT, !=, joins or projections). Pages are at most 1,000 rows;
STARTPOSITION is 1-based; a page shorter than asked for is the last one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qb_pipeline import settings
from qb_pipeline.qbo.entities import entity

OPERATORS = frozenset({"=", "<", ">", "<=", ">=", "LIKE"})
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_PAGING = re.compile(r"\b(STARTPOSITION|MAXRESULTS)\b", re.IGNORECASE)
_FROM = re.compile(r"\bFROM\s+([A-Za-z]+)", re.IGNORECASE)
_STRING = re.compile(r"'(?:\\'|[^'])*'")  # a quoted literal (backslash-quote escapes a quote)
_ACTIVE_BOTH = "Active IN (true, false)"

Value = str | bool | int | float | Decimal | date | datetime


class QueryValueError(ValueError):
    """A value or field QBO's query language cannot express."""


def quote(value: Value) -> str:
    """``value`` as a QBO query literal.

    >>> quote("Amy's Bird Sanctuary")
    "'Amy\\\\'s Bird Sanctuary'"
    >>> quote(True), quote(12.5), quote(date(2025, 1, 31))
    ('true', '12.5', "'2025-01-31'")
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise QueryValueError(f"datetime {value.isoformat()} has no time zone")
        return f"'{value.isoformat()}'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if not isinstance(value, str):
        raise QueryValueError(f"cannot quote a {type(value).__name__} for a QBO query")
    if value.endswith("\\"):
        raise QueryValueError(
            f"QBO cannot query a value ending in a backslash: {value!r} "
            "(its lexer reads \\' as an escaped quote); match it with LIKE on a prefix instead"
        )
    return "'" + value.replace("'", "\\'") + "'"


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise QueryValueError(f"not a QBO field name: {name!r}")
    return name


@dataclass(frozen=True)
class Query:
    """``SELECT * FROM <entity> [WHERE ...] [ORDERBY ...]``; immutable, built by chaining."""

    entity: str
    conditions: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    include_inactive: bool = True
    mentions_active: bool = False

    def where(self, field: str, op: str, value: Value) -> Query:
        """AND ``field op value`` (op one of = < > <= >= LIKE)."""
        op_upper = op.strip().upper()
        if op_upper not in OPERATORS:
            raise QueryValueError(f"QBO has no operator {op!r}; use one of {sorted(OPERATORS)}")
        return self._with(field, f"{_field(field)} {op_upper} {quote(value)}")

    def where_in(self, field: str, values: Iterable[Value]) -> Query:
        """AND ``field IN (v1, v2, ...)``."""
        literals = [quote(v) for v in values]
        if not literals:
            raise QueryValueError(f"IN list for {field} is empty")
        return self._with(field, f"{_field(field)} IN ({', '.join(literals)})")

    def order_by(self, field: str, *, descending: bool = False) -> Query:
        """Order the rows; pages are only stable under an order that is total (end with Id)."""
        term = f"{_field(field)} {'DESC' if descending else 'ASC'}"
        return replace(self, order=(*self.order, term))

    def _with(self, field: str, condition: str) -> Query:
        mentions = self.mentions_active or field.lower() == "active"
        return replace(self, conditions=(*self.conditions, condition), mentions_active=mentions)

    def _where_clause(self) -> str:
        conditions = list(self.conditions)
        if self.include_inactive and not self.mentions_active and entity(self.entity).is_name_list:
            conditions.append(_ACTIVE_BOTH)
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    @property
    def sql(self) -> str:
        """The query text without paging."""
        order = f" ORDERBY {', '.join(self.order)}" if self.order else ""
        return f"SELECT * FROM {self.entity}{self._where_clause()}{order}"

    @property
    def count_sql(self) -> str:
        return f"SELECT COUNT(*) FROM {self.entity}{self._where_clause()}"

    def page(self, start_position: int, max_results: int) -> str:
        """The text for one page (1-based start, at most 1,000 rows)."""
        return page_sql(self.sql, start_position, max_results)


def select(name: str, *, include_inactive: bool = True) -> Query:
    """A query over every row of an entity (inactive name-list rows too, unless told not to)."""
    return Query(entity(name).name, include_inactive=include_inactive)


def page_sql(sql: str, start_position: int, max_results: int) -> str:
    """``sql`` with STARTPOSITION and MAXRESULTS appended."""
    if not 1 <= max_results <= settings.PAGE_SIZE:
        raise QueryValueError(f"MAXRESULTS must be 1..{settings.PAGE_SIZE}, not {max_results}")
    if start_position < 1:
        raise QueryValueError(f"STARTPOSITION is 1-based, not {start_position}")
    if _PAGING.search(_STRING.sub("''", sql)):
        raise QueryValueError("the query already pages itself; give it without STARTPOSITION")
    return f"{sql} STARTPOSITION {start_position} MAXRESULTS {max_results}"


def entity_of(sql: str) -> str:
    """The entity a query text selects from."""
    found = _FROM.search(sql)
    if found is None:
        raise QueryValueError("a QBO query needs FROM <Entity>")
    return entity(found.group(1)).name


@dataclass(frozen=True)
class QueryPage:
    """One page of a query: its rows in order and where it started."""

    entity: str
    start_position: int
    rows: tuple[dict[str, Any], ...]

    @property
    def next_position(self) -> int:
        return self.start_position + len(self.rows)


def rows_of(query_response: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of a QueryResponse object (matched case-insensitively; ``{}`` = no rows)."""
    wanted = {name.lower(), entity(name).key.lower()}
    for key, value in query_response.items():
        if key.lower() in wanted and isinstance(value, list):
            return value
    return []


def paginate(
    fetch: Callable[[str], Mapping[str, Any]],
    query: Query | str,
    *,
    page_size: int = settings.PAGE_SIZE,
    start_position: int = 1,
    max_rows: int | None = None,
) -> Iterator[QueryPage]:
    """Every page of ``query``: ``fetch(text)`` returns the QueryResponse object of one page.

    Stops after a short page (or ``max_rows``). Example, with a fake QBO of five customers::

        >>> customers = [{"Id": str(i)} for i in range(1, 6)]
        >>> def fetch(text):
        ...     start, size = (int(n) for n in re.findall(r"\\d+", text)[-2:])
        ...     rows = customers[start - 1 : start - 1 + size]
        ...     return {"Customer": rows, "startPosition": start, "maxResults": len(rows)}
        >>> query = select("Customer").order_by("Id")
        >>> [[r["Id"] for r in p.rows] for p in paginate(fetch, query, page_size=2)]
        [['1', '2'], ['3', '4'], ['5']]

    A :class:`Query` without an order is paged ``ORDERBY Id`` so that pages neither overlap
    nor skip. ``QBOClient.query`` is this generator with the HTTP call as ``fetch``.
    """
    if isinstance(query, Query) and not query.order:
        query = query.order_by("Id")
    sql = query.sql if isinstance(query, Query) else query
    name = query.entity if isinstance(query, Query) else entity_of(sql)
    position, remaining = start_position, max_rows
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        rows = rows_of(fetch(page_sql(sql, position, size)), name)
        if rows:
            yield QueryPage(name, position, tuple(rows))
        if len(rows) < size:
            return
        position += len(rows)
        remaining = None if remaining is None else remaining - len(rows)


CDC_MAX_OBJECTS = 1000  # QBO answers at most this many objects per CDC call


@dataclass(frozen=True)
class CDCResult:
    """A change data capture answer: changed objects and deleted Ids, per entity."""

    changed: Mapping[str, tuple[dict[str, Any], ...]]
    deleted: Mapping[str, tuple[str, ...]]

    @property
    def total(self) -> int:
        return sum(map(len, self.changed.values())) + sum(map(len, self.deleted.values()))

    @property
    def capped(self) -> bool:
        """True when QBO's 1,000-object cap may have cut the answer: complete by query paging."""
        return self.total >= CDC_MAX_OBJECTS


def cdc_result(data: Mapping[str, Any], names: Iterable[str]) -> CDCResult:
    """Split a ``{"CDCResponse": [{"QueryResponse": [...]}]}`` body into a CDCResult."""
    changed: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    deleted: dict[str, list[str]] = {name: [] for name in changed}
    for block in data.get("CDCResponse") or []:
        for response in block.get("QueryResponse") or []:
            for name, rows in changed.items():
                for row in rows_of(response, name):
                    if row.get("status") == "Deleted":
                        deleted[name].append(str(row["Id"]))
                    else:
                        rows.append(row)
    return CDCResult(
        {k: tuple(v) for k, v in changed.items()}, {k: tuple(v) for k, v in deleted.items()}
    )

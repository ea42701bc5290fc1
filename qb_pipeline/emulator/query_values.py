"""How QBO compares stored values with query literals: compiled once per condition.

Real: field paths resolve case-insensitively (``Metadata.LastUpdatedTime``); a reference
(``CustomerRef``) compares by its ``value``; amounts compare numerically even when the literal is
quoted (``TotalAmt > '300.00'``); datetimes compare as instants whatever the offset (a literal
without one is company time, US/Pacific); booleans are unquoted ``true``/``false``; LIKE knows only
``%``; a missing field never matches.
Faked (QBO's exact rules are undocumented): ``=``, ``IN`` and ``LIKE`` on text ignore case while
``<``/``>`` use code-point order; Ids and reference values compare as numbers; a field's casing is
learned from the first row that has it (stored QBO objects use one casing per field); text in
QBO's own stamp shape (``2023-02-18T13:13:33-08:00``) is trusted to be a valid datetime, which
lets a filter compare it as text against the literal written in the same offset.
Not implemented: comparisons inside lists (line-level fields are refused by the parser).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.clock import parse_qbo_datetime
from qb_pipeline.emulator.query_parser import Condition, Literal

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
Getter = Callable[[dict], Any]
Predicate = Callable[[dict], bool]

_ORDERING = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
_REF_KEYS = ("value", "Address")  # CustomerRef.value, PrimaryEmailAddr.Address


def make_getter(path: tuple[str, ...]) -> Getter:
    """Resolve ``path`` in a row case-insensitively; a reference dict yields its value."""
    lowered = tuple(segment.lower() for segment in path)
    if len(lowered) == 1:
        return _getter_1(lowered[0])
    if len(lowered) == 2:
        return _getter_2(*lowered)
    return _getter_n(lowered)


def _finish(value: Any) -> Any:
    if value is None:
        return MISSING
    return _unwrap(value) if type(value) is dict else value


def _learn(obj: Any, segment: str) -> tuple[str | None, Any]:
    """The stored casing of ``segment`` in ``obj`` and its value, or (None, MISSING)."""
    if type(obj) is dict:
        for key, value in obj.items():
            if key.lower() == segment:
                return key, value
    return None, MISSING


def _getter_1(segment: str) -> Getter:
    key: str | None = None

    def get(row: dict) -> Any:
        nonlocal key
        if key is None:
            key, value = _learn(row, segment)
        else:
            value = row.get(key)
        if value is None:
            return MISSING
        return _unwrap(value) if type(value) is dict else value

    return get


def _getter_2(outer: str, inner: str) -> Getter:
    first: str | None = None
    second: str | None = None

    def get(row: dict) -> Any:
        nonlocal first, second
        if first is None:
            first, value = _learn(row, outer)
        else:
            value = row.get(first)
        if type(value) is not dict:
            return MISSING
        if second is None:
            second, value = _learn(value, inner)
        else:
            value = value.get(second)
        if value is None:
            return MISSING
        return _unwrap(value) if type(value) is dict else value

    return get


def _getter_n(lowered: tuple[str, ...]) -> Getter:
    learned: list[str | None] = [None] * len(lowered)

    def get(row: dict) -> Any:
        value: Any = row
        for level, segment in enumerate(lowered):
            key = learned[level]
            if key is not None:
                value = value.get(key) if type(value) is dict else None
            else:
                learned[level], value = _learn(value, segment)
            if value is None or value is MISSING:
                return MISSING
        return _finish(value)

    return get


def _unwrap(ref: dict) -> Any:
    for key in _REF_KEYS:
        value = ref.get(key)
        if value is not None:
            return value
    return MISSING


def is_id_like(path: tuple[str, ...]) -> bool:
    """Ids and reference values hold numbers in strings; they compare as numbers."""
    last = path[-1].lower()
    return last in ("id", "value") or last.endswith("ref")


def number_of(text: str) -> float | None:
    """The number written in ``text`` (``300.00``, ``-5``), or None; no NaN, no exponent."""
    body = text[1:] if text[:1] == "-" else text
    whole, _, fraction = body.partition(".")
    if not (whole or fraction) or not (whole + fraction).isascii():
        return None
    if (whole and not whole.isdigit()) or (fraction and not fraction.isdigit()):
        return None
    return float(text)


# Every UTC offset in use (quarter hours), so QBO's own stamps convert without a parser.
OFFSETS: dict[str, timedelta] = {
    f"{sign}{hours:02d}:{minutes:02d}": (-1 if sign == "-" else 1)
    * timedelta(hours=hours, minutes=minutes)
    for sign in "+-"
    for hours in range(24)
    for minutes in (0, 15, 30, 45)
}


def is_stamp(text: str) -> bool:
    """QBO's own shape, ``2023-02-18T13:13:33-08:00``: 19 characters of local time + offset."""
    return len(text) == 25 and text[10:11] == "T" and text[13:14] == ":" == text[16:17]


def utc_naive(text: str) -> datetime | None:
    """The instant in ``text`` as a naive UTC datetime (fast for QBO's own stamps), or None."""
    if is_stamp(text) and (offset := OFFSETS.get(text[19:])) is not None:
        try:
            return datetime.fromisoformat(text[:19]) - offset
        except (ValueError, OverflowError):
            return None
    if len(text) < 10 or text[4:5] != "-" or not text[:4].isdigit():
        return None
    try:
        return parse_qbo_datetime(text).astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def instants_of(texts: list[str]) -> list[datetime] | None:
    """``utc_naive`` of every text, in one C-speed pass when all are QBO stamps; None if any
    text is no datetime."""
    parse = datetime.fromisoformat
    try:
        # The offset table only knows 6-character suffixes, so every text is 25 long here;
        # a prefix carrying an offset of its own parses as aware and is caught below.
        instants = [parse(text[:19]) - OFFSETS[text[19:]] for text in texts]
    except (KeyError, ValueError, OverflowError):
        instants = []
    if instants and {instant.tzinfo for instant in instants} == {None}:
        return instants
    slow = [utc_naive(text) for text in texts]
    return None if None in slow else slow  # type: ignore[return-value]


def stamp_sort_keys(texts: list[str]) -> list[Any] | None:
    """Sort keys for a column of datetimes: the texts themselves when all are QBO stamps in
    one offset (text order is time order then), else instants; None if one is no datetime."""
    suffixes = {text[19:] if len(text) == 25 else "" for text in texts}
    if len(suffixes) == 1 and suffixes <= OFFSETS.keys():
        return texts
    return instants_of(texts)


def looks_like_datetime(text: str) -> bool:
    """``YYYY-MM-DDT...``: worth trying as a datetime."""
    return text[10:11] == "T" and text[4:5] == "-"


def looks_like_date(text: str) -> bool:
    """``YYYY-MM-DD`` in shape (TxnDate, DueDate)."""
    return len(text) == 10 and text[4:5] == "-" and text[7:8] == "-"


@dataclass(frozen=True)
class Operand:
    """A literal in every form a stored value might be compared with."""

    text: str
    lower: str
    number: float | None
    numeric_strings: bool  # compare numeric strings by value (unquoted number, or an Id field)
    boolean: bool | None
    instant: datetime | None
    date: str | None

    @classmethod
    def of(cls, literal: Literal, id_like: bool) -> Operand:
        text = literal.text
        number = number_of(text)
        date = text if looks_like_date(text) and utc_naive(text) is not None else None
        return cls(
            text=text,
            lower=text.lower(),
            number=number,
            numeric_strings=number is not None and (literal.kind == "number" or id_like),
            boolean={"true": True, "false": False}.get(text.lower()),
            instant=utc_naive(text) if looks_like_date(text[:10]) else None,
            date=date,
        )


def compile_condition(condition: Condition) -> Predicate:
    """One callable per condition: resolve the path once, coerce the literal once."""
    get = make_getter(condition.path)
    id_like = is_id_like(condition.path)
    value = condition.value
    literals = value if isinstance(value, tuple) else (value,)
    operands = [Operand.of(literal, id_like) for literal in literals]
    if condition.op == "like":
        test = _like_test(literals[0].text)
    elif condition.op in ("=", "in"):
        test = _equality_test(operands)
    else:
        test = _ordering_test(operands[0], _ORDERING[condition.op])

    def predicate(row: dict) -> bool:
        stored = get(row)
        return stored is not MISSING and test(stored)

    return predicate


def _equality_test(operands: list[Operand]) -> Callable[[Any], bool]:
    lowers = {o.lower for o in operands}
    numbers = {o.number for o in operands if o.number is not None}
    numeric_strings = {o.number for o in operands if o.numeric_strings}
    booleans = {o.boolean for o in operands if o.boolean is not None}
    instants = {o.instant for o in operands if o.instant is not None}

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if value.lower() in lowers:
                return True
            if instants and looks_like_datetime(value) and utc_naive(value) in instants:
                return True
            return bool(numeric_strings) and number_of(value) in numeric_strings
        if kind is bool:
            return value in booleans
        if kind is int or kind is float:
            return value in numbers
        return False

    return test


def _ordering_test(operand: Operand, compare: Callable[[Any, Any], bool]) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return _compare_text(value, operand, compare)
        if kind is bool:
            return operand.boolean is not None and compare(value, operand.boolean)
        if kind is int or kind is float:
            return operand.number is not None and compare(value, operand.number)
        return False

    if operand.instant is None:
        return test
    local_texts = _local_texts(operand.instant)

    def stamp_test(value: Any) -> bool:
        # A QBO stamp against the literal written in the stamp's own offset: one string compare
        # (is_stamp inlined: this runs once per row).
        if type(value) is str and len(value) == 25 and value[13:14] == ":" == value[16:17]:
            local = local_texts.get(value[19:]) if value[10:11] == "T" else None
            if local is not None:
                return compare(value[:19], local)
        return test(value)

    return stamp_test


def _local_texts(instant: datetime) -> dict[str, str]:
    """``instant`` as local wall time in every offset (``2023-02-18T13:13:33[.ffffff]``)."""
    texts = {}
    for suffix, offset in OFFSETS.items():
        try:
            texts[suffix] = (instant + offset).isoformat()
        except OverflowError:
            continue
    return texts


def _compare_text(value: str, operand: Operand, compare: Callable[[Any, Any], bool]) -> bool:
    if operand.instant is not None:
        if looks_like_date(value) and operand.date is not None:
            return compare(value, operand.date)
        if looks_like_datetime(value) or looks_like_date(value):
            instant = utc_naive(value)
            if instant is not None:
                return compare(instant, operand.instant)
    if operand.numeric_strings and (number := number_of(value)) is not None:
        return compare(number, operand.number)
    return compare(value, operand.text)


def _like_test(pattern: str) -> Callable[[Any], bool]:
    """LIKE with ``%`` as the only wildcard, ignoring case, without a regex per row."""
    parts = pattern.lower().split("%")
    if len(parts) == 1:
        return lambda value: type(value) is str and value.lower() == parts[0]
    head, middle, tail = parts[0], [p for p in parts[1:-1] if p], parts[-1]

    def test(value: Any) -> bool:
        if type(value) is not str:
            return False
        text = value.lower()
        if len(text) < len(head) + len(tail) or not text.startswith(head):
            return False
        if not text.endswith(tail):
            return False
        at, end = len(head), len(text) - len(tail)
        for part in middle:
            at = text.find(part, at, end)
            if at < 0:
                return False
            at += len(part)
        return True

    return test

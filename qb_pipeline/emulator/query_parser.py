"""Parser for QBO's query language (the IDS SQL subset), as real clients send it.

Real: the grammar of API_FACTS section 2.1 (``SELECT * | COUNT(*) | *, Field | Field, ...``,
``WHERE`` with ``= < > <= >= LIKE IN`` joined by ``AND``, ``ORDERBY``/``ORDER BY`` with
``ASC``/``DESC``, ``STARTPOSITION``/``MAXRESULTS`` in either order); case-insensitive keywords,
entity and field names; ``\\'`` as the only escape inside single-quoted strings (a trailing
backslash leaves the string open, as it breaks QBO's lexer); codes 4000 for syntax and 4001 for
validation, with JavaCC-shaped details (``Encountered " <IDENTIFIER> "s "" at line 1, column
48.`` and ``Lexical error at line 1, column 44.  Encountered: "%" (37), after : ""``).
Faked: the token names in the expected lists, the 4001 wording for line-level fields and
negative STARTPOSITION, clamping MAXRESULTS above 1000 (QBO's answer is undocumented).
Not implemented: ``OR``, ``NOT``, ``!=``, grouping parentheses, functions, ``ITERATOR`` (all
rejected with 4000), per-entity lists of filterable fields (any field may be filtered).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal as TypingLiteral

from qb_pipeline.emulator.entities import entity_type
from qb_pipeline.emulator.exceptions import FaultError, QueryParse, QueryValidation

LiteralKind = TypingLiteral["string", "number", "boolean"]

DEFAULT_MAX_RESULTS = 100
MAX_MAX_RESULTS = 1000
_HUGE_POSITION = 10**18  # STARTPOSITION beyond any data; avoids int() on 5,000-digit input


@dataclass(frozen=True)
class Literal:
    """One value as written: a quoted string (unescaped), an unquoted number, or a boolean."""

    kind: LiteralKind
    text: str


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: str  # "=", "<", ">", "<=", ">=", "like", "in"
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class OrderTerm:
    path: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query; ``cache_key`` identifies its result before paging."""

    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[OrderTerm, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    mentions_active: bool = False
    fields: tuple[str, ...] = field(default=(), compare=False)  # projection; answer is full

    @property
    def cache_key(self) -> tuple:
        """Everything that decides the filtered, sorted rows (not STARTPOSITION/MAXRESULTS)."""
        return (self.entity, self.count, self.conditions, self.order_by)


@dataclass(frozen=True)
class Token:
    kind: str  # "IDENT", "STRING", "INT", "DEC", "EOF", a lower-case keyword, or punctuation
    text: str
    line: int
    column: int


KEYWORDS = frozenset(
    {
        *("select", "from", "where", "and", "or", "not", "in", "like", "count", "true", "false"),
        *("order", "by", "orderby", "asc", "desc", "startposition", "maxresults", "iterator"),
    }
)
_IMAGES = {
    "IDENT": "<IDENTIFIER>",
    "STRING": "<STRING_LITERAL>",
    "INT": "<INTEGER_LITERAL>",
    "DEC": "<DECIMAL_LITERAL>",
    "EOF": "<EOF>",
    "and": "<AND>",
    "or": "<OR>",
}
_LEXER = re.compile(
    r"""
      (?P<space>[ \t\r\n\f]+)
    | (?P<string>'(?:\\'|[^'])*+')
    | (?P<number>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<op><=|>=|=|<|>|[(),*])
    """,
    re.VERBOSE,
)


def image(kind: str) -> str:
    """JavaCC's name for a token kind: ``<IDENTIFIER>``, ``"maxresults"``, ``"="``."""
    return _IMAGES.get(kind, f'"{kind}"')


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _lexical_error(text: str, offset: int) -> FaultError:
    if text[offset] == "'":  # an unterminated string runs to the end of the input
        line, column = _position(text, len(text) - 1)
        after = text[offset:].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        found = f'<EOF> after : "{after}"'
    else:
        line, column = _position(text, offset)
        char = text[offset]
        shown = char.encode("unicode_escape").decode("ascii") if not char.isprintable() else char
        found = f'"{shown}" ({ord(char)}), after : ""'
    return QueryParse(
        f"Invalid content. Lexical error at line {line}, column {column}.  Encountered: {found}"
    )


def tokenize(text: str) -> Iterator[Token]:
    """Yield tokens lazily, ending with EOF, so a syntax error earlier in the text wins over
    a lexical error later on (as in QBO's JavaCC parser); 4000 on a character it cannot lex."""
    offset = 0
    while offset < len(text):
        match = _LEXER.match(text, offset)
        if match is None:
            raise _lexical_error(text, offset)
        group, value = match.lastgroup, match.group()
        if group != "space":
            line, column = _position(text, offset)
            yield Token(_kind(group, value), value, line, column)
        offset = match.end()
    line, column = _position(text, len(text) - 1) if text else (0, 0)
    yield Token("EOF", "", line, column)


def _kind(group: str | None, value: str) -> str:
    if group == "string":
        return "STRING"
    if group == "number":
        return "DEC" if "." in value else "INT"
    if group == "name":
        lower = value.lower()
        return lower if lower in KEYWORDS else "IDENT"
    return value  # operators and punctuation are their own kind


def parse_error(token: Token, expected: tuple[str, ...]) -> FaultError:
    """4000 in QBO's JavaCC shape, naming the token found and what could have come instead."""
    found = '"<EOF>"' if token.kind == "EOF" else f'" {image(token.kind)} "{token.text} ""'
    heading = "Was expecting:" if len(expected) == 1 else "Was expecting one of:"
    lines = "".join(f"    {image(kind)} {'' if kind == 'EOF' else '...'}\n" for kind in expected)
    return QueryParse(
        f"Encountered {found} at line {token.line}, column {token.column}.\n{heading}\n{lines}    "
    )


@lru_cache(maxsize=1024)
def parse_query(text: str) -> Query:
    """Parse one query as QBO does; raise FaultError 4000 (syntax) or 4001 (validation)."""
    return _validated(_Reader(text).read())


def _validated(query: Query) -> Query:
    """Resolve the entity (4001 when unknown) and refuse line-level fields (4001)."""
    known = entity_type(query.entity)
    if known is None:
        raise QueryValidation(f"invalid context declaration: {query.entity}")
    paths = [c.path for c in query.conditions] + [t.path for t in query.order_by]
    for path in paths:
        if path[0].lower() == "line":
            raise QueryValidation(
                f"property {'.'.join(path)} is not supported for filtering or sorting "
                f"on entity {known.name}"
            )
    mentions_active = any(
        len(c.path) == 1 and c.path[0].lower() == "active" for c in query.conditions
    )
    return replace(query, entity=known.name, mentions_active=mentions_active)


def _position_value(token: Token, minimum: int) -> int:
    """STARTPOSITION / MAXRESULTS value; below ``minimum`` is 4001 as QBO words it."""
    digits = token.text.lstrip("-").lstrip("0") or "0"
    negative = token.text.startswith("-") and digits != "0"
    if negative or (len(digits) < 19 and int(digits) < minimum):
        shown = f"-{digits}" if negative else digits
        raise QueryValidation(f"value {shown} is too small. Min allowed value is {minimum}")
    return int(digits) if len(digits) < 19 else _HUGE_POSITION


_CLAUSES = ("maxresults", "order", "orderby", "startposition", "where")
_OPERATORS = ("<", "<=", "=", ">", ">=", "in", "like")
_VALUES = ("STRING", "INT", "DEC", "false", "true")


class _Reader:
    """Recursive descent over the token list; each method reads one clause."""

    def __init__(self, text: str) -> None:
        self._tokens = tokenize(text)
        self._current = next(self._tokens)

    def _peek(self) -> Token:
        return self._current

    def _advance(self) -> Token:
        token = self._current
        if token.kind != "EOF":
            self._current = next(self._tokens)
        return token

    def _take(self, *kinds: str) -> Token:
        if self._current.kind not in kinds:
            raise parse_error(self._current, kinds)
        return self._advance()

    def _accept(self, kind: str) -> bool:
        if self._current.kind == kind:
            self._advance()
            return True
        return False

    def read(self) -> Query:
        self._take("select")
        count, fields = self._select_list()
        self._take("from")
        entity = self._take("IDENT").text
        conditions = self._where()
        order_by = self._order_by()
        start, maximum = self._paging()
        return Query(entity, count, conditions, order_by, start, maximum, fields=fields)

    def _select_list(self) -> tuple[bool, tuple[str, ...]]:
        first = self._take("*", "count", "IDENT")
        if first.kind == "count":
            self._take("(")
            self._take("*")
            self._take(")")
            return True, ()
        fields = [] if first.kind == "*" else [first.text]
        while self._accept(","):
            fields.append(self._take("IDENT").text)
        if self._peek().kind != "from":
            raise parse_error(self._peek(), (",", "from"))
        return False, tuple(fields)

    def _where(self) -> tuple[Condition, ...]:
        if not self._accept("where"):
            self._expect_next(("EOF", *_CLAUSES))
            return ()
        conditions = [self._condition()]
        while self._accept("and"):
            conditions.append(self._condition())
        self._expect_next(("EOF", "and", "maxresults", "order", "orderby", "startposition"))
        return tuple(conditions)

    def _expect_next(self, expected: tuple[str, ...]) -> None:
        if self._peek().kind not in expected:
            raise parse_error(self._peek(), expected)

    def _condition(self) -> Condition:
        path = tuple(self._take("IDENT").text.split("."))
        op = self._take(*_OPERATORS).kind
        if op != "in":
            return Condition(path, op, self._value())
        self._take("(")
        values = [self._value()]
        while self._accept(","):
            values.append(self._value())
        self._take(",", ")")
        return Condition(path, op, tuple(values))

    def _value(self) -> Literal:
        token = self._take(*_VALUES)
        if token.kind == "STRING":
            return Literal("string", token.text[1:-1].replace("\\'", "'"))
        if token.kind in ("true", "false"):
            return Literal("boolean", token.kind)
        return Literal("number", token.text)

    def _order_by(self) -> tuple[OrderTerm, ...]:
        if self._accept("order"):
            self._take("by")
        elif not self._accept("orderby"):
            return ()
        terms = [self._order_term()]
        while self._accept(","):
            terms.append(self._order_term())
        self._expect_next(("EOF", ",", "maxresults", "startposition"))
        return tuple(terms)

    def _order_term(self) -> OrderTerm:
        path = tuple(self._take("IDENT").text.split("."))
        descending = self._accept("desc")
        if not descending:
            self._accept("asc")
        return OrderTerm(path, descending)

    def _paging(self) -> tuple[int, int]:
        start, maximum = None, None
        while True:
            token = self._peek()
            if token.kind == "startposition" and start is None:
                self._advance()
                start = max(1, _position_value(self._take("INT"), 0))
            elif token.kind == "maxresults" and maximum is None:
                self._advance()
                maximum = min(MAX_MAX_RESULTS, _position_value(self._take("INT"), 1))
            else:
                break
        expected = [k for k, v in (("maxresults", maximum), ("startposition", start)) if v is None]
        self._take("EOF", *expected)
        return start or 1, maximum or DEFAULT_MAX_RESULTS

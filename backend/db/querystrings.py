"""Piccolo ``QueryString`` → SQL and arguments, for both engines, with each template parsed once per
process instead of once per query (the parse is most of the cost of compiling a select). The output is
exactly ``querystring.compile_string("sqlite" | "postgres")``, which tests check. ``SelectHead`` keeps
the costly part of a joined select for reuse."""

from __future__ import annotations

from string import Formatter
from typing import TYPE_CHECKING, Any

from piccolo.querystring import QueryString

if TYPE_CHECKING:
    from piccolo.table import Table

_TEMPLATE_CACHE_SIZE = 4096
_template_prefixes: dict[str, tuple[str, ...]] = {}


def template_prefixes(template: str) -> tuple[str, ...]:
    """The literal text before each ``{}`` of a QueryString template (and after the last)."""
    prefixes = _template_prefixes.get(template)
    if prefixes is None:
        prefixes = tuple(literal for literal, *_ in Formatter().parse(template))
        if len(_template_prefixes) >= _TEMPLATE_CACHE_SIZE:
            _template_prefixes.clear()
        _template_prefixes[template] = prefixes
    return prefixes


def _flatten(querystring: QueryString, sql: list[str], args: list[Any], numbered: bool) -> None:
    """Append the SQL text and arguments; placeholders are ``?`` or, ``numbered``, ``$1, $2 …``."""
    values = querystring.args
    count = len(values)
    for index, prefix in enumerate(template_prefixes(querystring.template)):
        sql.append(prefix)
        if index < count:
            value = values[index]
            if isinstance(value, QueryString):
                _flatten(value, sql, args, numbered)
            else:
                args.append(value)
                sql.append(f"${len(args)}" if numbered else "?")


def _compile(querystring: QueryString, numbered: bool) -> tuple[str, list[Any]]:
    frozen = querystring._frozen_compiled_strings
    if frozen is not None:
        return frozen
    sql: list[str] = []
    args: list[Any] = []
    _flatten(querystring, sql, args, numbered)
    return "".join(sql), args


def compile_sqlite(querystring: QueryString) -> tuple[str, list[Any]]:
    return _compile(querystring, numbered=False)


def compile_postgres(querystring: QueryString) -> tuple[str, list[Any]]:
    return _compile(querystring, numbered=True)


def expand_in(sql: str, count: int) -> str:
    """``sql`` with its one ``IN ({})`` given ``count`` placeholders, for a raw query over a list."""
    return sql.replace("IN ({})", "IN (" + ", ".join("{}" for _ in range(count)) + ")", 1)


class SelectHead:
    """``SELECT <columns> FROM <table> <joins>`` of a Piccolo select, built once per engine type.

    Building a select that joins (``Action.unit.name``…) costs 150–250 µs each time, more than
    running it on a short page; a hot query takes its head from here and adds its own ``WHERE`` and
    ``ORDER BY`` (``Table.raw("{} WHERE {} ORDER BY …", head.querystring(), condition.querystring)``).
    The condition may use the table's own columns only: joins it would need are not added.
    """

    def __init__(self, table: type[Table], *columns: Any) -> None:
        self._table = table
        self._columns = columns
        self._heads: dict[str, QueryString] = {}

    def querystring(self) -> QueryString:
        engine_type = self._table._meta.db.engine_type
        head = self._heads.get(engine_type)
        if head is None:
            head = self._heads[engine_type] = self._table.select(*self._columns).querystrings[0]
        return head

"""What the SQL tokens around the cursor mean: the tables in scope, their aliases, and the
table or column a name under the cursor is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dbheal_lsp.analysis.schema import Table
from dbheal_lsp.analysis.sqllex import Token
from dbheal_lsp.analysis.statement import (
    is_stand_in,
)
from dbheal_lsp.lookup.catalog import Catalog
from dbheal_lsp.lookup.cursor import CursorSite
from dbheal_lsp.model import Span


@dataclass(frozen=True)
class SqlToken:
    """A table or column name under the cursor inside a SQL string."""

    kind: Literal["table", "column"]
    name: str  # as the schema spells it when known, else as written (unquoted)
    table: str | None  # the real table a column belongs to (aliases resolved); a table's name
    span: Span  # its span in the Python file


_KEYWORD_LIST = """
    ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN
    BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE
    EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS
    HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS
    ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
    NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY
    RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING
    RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION
    TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW
    WITH WITHOUT"""
_KEYWORDS = frozenset(_KEYWORD_LIST.split())
# Keywords after which a table name comes.
TABLE_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "REFERENCES"})
CONFLICT_WORDS = frozenset({"ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE"})
# Qualifiers that name the target row of an upsert or a trigger, not a table of the query.
_ROW_QUALIFIERS = frozenset({"excluded", "new", "old"})
# What may be typed after a table name, and elsewhere after the names (in this order).
COMPLETION_KEYWORDS = (
    "WHERE",
    "JOIN",
    "LEFT JOIN",
    "INNER JOIN",
    "CROSS JOIN",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS NULL",
    "IS NOT NULL",
    "LIKE",
    "BETWEEN",
    "EXISTS",
    "GROUP BY",
    "HAVING",
    "ORDER BY",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "UNION",
    "UNION ALL",
    "SELECT",
    "DISTINCT",
    "FROM",
    "INSERT INTO",
    "VALUES",
    "DEFAULT VALUES",
    "UPDATE",
    "SET",
    "DELETE FROM",
    "RETURNING",
    "ON CONFLICT",
    "DO NOTHING",
    "DO UPDATE SET",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "WITH",
)


def is_name(tok: Token) -> bool:
    """Whether `tok` can name a table or column (a quoted name or a word dbheal did not insert)."""
    return tok.kind == "quoted" or (tok.kind == "word" and not is_stand_in(tok.text))


def keyword_of(tok: Token | None) -> str:
    """The upper-cased word `tok` is, "" for any other token."""
    return tok.text.upper() if tok is not None and tok.kind == "word" else ""


@dataclass(frozen=True)
class _Source:
    """A table the statement names after FROM, JOIN, INTO, UPDATE, TABLE, REFERENCES or ON."""

    name: str  # as written, unquoted
    keyword: str
    name_index: int  # indexes in the statement's tokens
    alias: str | None = None
    alias_index: int | None = None


def table_sources(tokens: Sequence[Token], catalog: Catalog) -> list[_Source]:
    """Return the tables the statement names, with their aliases, in order of appearance.

    Token-level on purpose: it must work on statements that are half typed. Subqueries and
    CTEs are not scopes here: every table of the statement is in scope everywhere in it.
    """
    found: list[_Source] = []
    creates = keyword_of(tokens[0] if tokens else None) == "CREATE"
    size = len(tokens)
    for i, tok in enumerate(tokens):
        keyword = keyword_of(tok)
        if keyword not in TABLE_KEYWORDS and not (keyword == "ON" and creates):
            continue
        j = i + 1
        if keyword == "UPDATE" and keyword_of(nth_token(tokens, j)) == "OR":
            j += 2  # UPDATE OR REPLACE t
        while keyword_of(nth_token(tokens, j)) in ("IF", "NOT", "EXISTS"):
            j += 1  # CREATE TABLE IF NOT EXISTS t, DROP TABLE IF EXISTS t
        while True:
            named = _table_name(tokens, j, catalog)
            if named is None:
                break
            name, name_index, j = named
            alias = alias_index = None
            if (
                keyword_of(nth_token(tokens, j)) == "AS"
                and j + 1 < size
                and _is_alias(tokens[j + 1])
            ):
                alias, alias_index, j = tokens[j + 1].name, j + 1, j + 2
            elif j < size and _is_alias(tokens[j]):
                alias, alias_index, j = tokens[j].name, j, j + 1
            found.append(_Source(name, keyword, name_index, alias, alias_index))
            nxt = nth_token(tokens, j)
            if keyword != "FROM" or nxt is None or nxt.kind != "punct" or nxt.text != ",":
                break
            j += 1  # FROM a, b
    return found


def nth_token(tokens: Sequence[Token], i: int) -> Token | None:
    """`tokens[i]`, or None outside the list."""
    return tokens[i] if 0 <= i < len(tokens) else None


def _table_name(tokens: Sequence[Token], j: int, catalog: Catalog) -> tuple[str, int, int] | None:
    """Return (name, its token index, the index after it) for a table name at tokens[j]."""
    tok = nth_token(tokens, j)
    if tok is None or tok.kind not in ("word", "quoted"):
        return None
    dot = nth_token(tokens, j + 1)
    if dot is not None and dot.kind == "punct" and dot.text == "." and dot.start == tok.end:
        nxt = nth_token(tokens, j + 2)
        if nxt is not None and nxt.kind in ("word", "quoted"):
            tok, j = nxt, j + 2  # main.users: the schema name is not the table
    if tok.kind == "word" and tok.text.upper() in _KEYWORDS and catalog.table(tok.text) is None:
        return None
    return tok.name, j, j + 1


def _is_alias(tok: Token) -> bool:
    return tok.kind == "quoted" or (tok.kind == "word" and tok.text.upper() not in _KEYWORDS)


def qualifier_table(name: str, sources: Sequence[_Source], catalog: Catalog) -> Table | None:
    """Return the table that `name` stands for before a dot: an alias, a table, or a target."""
    key = name.lower()
    for source in sources:
        if source.alias is not None and source.alias.lower() == key:
            return catalog.table(source.name)
    for source in sources:
        if source.name.lower() == key:
            return catalog.table(source.name)
    if key in _ROW_QUALIFIERS:
        target = next((s for s in sources if s.keyword in ("INTO", "UPDATE", "ON")), None)
        if target is not None:
            return catalog.table(target.name)
    return catalog.table(name)


def scope_tables(sources: Sequence[_Source], catalog: Catalog) -> list[Table]:
    """Return the distinct tables of the schemas that `sources` name, in order."""
    seen: set[str] = set()
    tables: list[Table] = []
    for source in sources:
        if source.keyword == "REFERENCES" or is_stand_in(source.name):
            continue
        table = catalog.table(source.name)
        if table is not None and table.name.lower() not in seen:
            seen.add(table.name.lower())
            tables.append(table)
    return tables


def _column_table(name: str, sources: Sequence[_Source], catalog: Catalog) -> Table | None:
    """Return the table in scope that has column `name`: live tables first, as SQLite would."""
    tables = scope_tables(sources, catalog)
    for table in tables:
        live = catalog.live(table.name)
        if live is not None and live.column(name) is not None:
            return live
    for table in tables:
        defined = catalog.defined(table.name)
        if defined is not None and defined.column(name) is not None:
            return defined
    return None


def classify(site: CursorSite, index: int, catalog: Catalog) -> SqlToken | None:
    """Return what the token at `index` names: a table, a column of a table, or nothing."""
    tokens = site.tokens
    tok = tokens[index]
    if not is_name(tok) or not tok.closed:
        return None
    span = site.rendered.span(tok.start, tok.end)
    sources = table_sources(tokens, catalog)
    for source in sources:
        if index in (source.name_index, source.alias_index):
            table = catalog.table(source.name)
            name = table.name if table is not None else source.name
            return SqlToken("table", name, name, span)
    prev, nxt = nth_token(tokens, index - 1), nth_token(tokens, index + 1)
    if is_dot(nxt):
        table = qualifier_table(tok.name, sources, catalog)
        return SqlToken("table", table.name, table.name, span) if table is not None else None
    if is_dot(prev):
        qualifier = nth_token(tokens, index - 2)
        if qualifier is None or not is_name(qualifier):
            return None
        table = qualifier_table(qualifier.name, sources, catalog)
        if table is None:
            return None
        return SqlToken("column", _column_name(catalog, table.name, tok.name), table.name, span)
    if keyword_of(prev) == "AS" or (nxt is not None and nxt.kind == "punct" and nxt.text == "("):
        return None  # an alias being defined, a type in CAST(x AS t), a function's name
    table = _column_table(tok.name, sources, catalog)
    if table is None:
        return None
    return SqlToken("column", _column_name(catalog, table.name, tok.name), table.name, span)


def is_dot(tok: Token | None) -> bool:
    """Whether `tok` is the `.` between a qualifier and a name."""
    return tok is not None and tok.kind == "punct" and tok.text == "."


def _column_name(catalog: Catalog, table: str, name: str) -> str:
    for candidate in (catalog.live(table), catalog.defined(table)):
        column = candidate.column(name) if candidate is not None else None
        if column is not None:
            return column.name
    return name

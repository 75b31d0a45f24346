"""What may be typed at the cursor inside a SQL string: tables, columns and keywords."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from dbheal_lsp.analysis.schema import Column, Table
from dbheal_lsp.analysis.sqllex import Token
from dbheal_lsp.lookup.catalog import Catalog, pending_columns
from dbheal_lsp.lookup.cursor import CursorSite
from dbheal_lsp.lookup.hover import column_markdown, count_text, table_markdown
from dbheal_lsp.lookup.sql_context import (
    COMPLETION_KEYWORDS,
    CONFLICT_WORDS,
    TABLE_KEYWORDS,
    is_dot,
    is_name,
    keyword_of,
    nth_token,
    qualifier_table,
    scope_tables,
    table_sources,
)


@dataclass(frozen=True)
class Completion:
    """One completion proposal inside a SQL string."""

    label: str
    kind: Literal["table", "column", "keyword"]
    detail: str  # e.g. "INTEGER NOT NULL — users" or "table, 6 columns"
    documentation: str = ""  # Markdown


def proposals(site: CursorSite, catalog: Catalog) -> tuple[Completion, ...]:
    """Return the completions for the cursor at `site`, in the order they are offered."""
    tokens = site.tokens
    offset = site.offset
    partial_start = offset  # where the name being typed starts, if one is
    for tok in tokens:
        if tok.start >= offset:
            break
        if tok.kind in ("word", "quoted") and tok.end >= offset:
            partial_start = tok.start
    before = [t for t in tokens if t.end <= partial_start]
    sources = table_sources(tokens, catalog)

    last = before[-1] if before else None
    if last is not None and is_dot(last):
        qualifier = before[-2] if len(before) >= 2 else None
        if qualifier is None or not is_name(qualifier) or qualifier.end != last.start:
            return ()
        table = qualifier_table(qualifier.name, sources, catalog)
        return tuple(_column_items(catalog, [table])) if table is not None else ()

    context = _context(before)
    if context == "table":
        return tuple(_table_items(catalog))
    if context == "after_table":
        return tuple(_keyword_items())
    tables = scope_tables(sources, catalog)
    return (*_column_items(catalog, tables), *_table_items(catalog), *_keyword_items())


def _context(before: Sequence[Token]) -> Literal["table", "after_table", "other"]:
    """Return what the tokens before the cursor call for: a table, a keyword, or anything."""
    k = len(before) - 1
    while k >= 0 and keyword_of(before[k]) in ("IF", "NOT", "EXISTS"):
        k -= 1
    word = keyword_of(nth_token(before, k))
    if word in TABLE_KEYWORDS:
        return "table"
    if (
        word in CONFLICT_WORDS
        and keyword_of(nth_token(before, k - 1)) == "OR"
        and keyword_of(nth_token(before, k - 2)) == "UPDATE"
    ):
        return "table"  # UPDATE OR REPLACE t
    if word == "ON" and keyword_of(nth_token(before, 0)) == "CREATE":
        return "table"  # CREATE INDEX i ON t, CREATE TRIGGER ... ON t
    clause, at = _clause(before)
    last = nth_token(before, len(before) - 1)
    if clause == "FROM" and last is not None and last.kind == "punct" and last.text == ",":
        return "table"
    if clause in TABLE_KEYWORDS and last is not None and is_name(last):
        # FROM users |, FROM users u |, INTO users |: a name (and alias) were typed.
        names = [t for t in before[at + 1 :] if not (t.kind == "word" and t.text.upper() == "AS")]
        if 1 <= len(names) <= 2 and all(is_name(t) or is_dot(t) for t in names):
            return "after_table"
        if 3 <= len(names) <= 4 and is_dot(names[1]):  # main.users u
            return "after_table"
    return "other"


def _clause(before: Sequence[Token]) -> tuple[str, int]:
    """Return the last clause keyword at the cursor's bracket depth, and its token index."""
    depth = 0
    for k in range(len(before) - 1, -1, -1):
        tok = before[k]
        if tok.kind == "punct" and tok.text == ")":
            depth += 1
        elif tok.kind == "punct" and tok.text == "(":
            if depth == 0:
                return "(", k
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            if word in TABLE_KEYWORDS or word in _CLAUSES:
                return word, k
    return "", -1


_CLAUSES = frozenset(
    {"SELECT", "WHERE", "ON", "USING", "SET", "VALUES", "GROUP", "ORDER", "HAVING", "LIMIT"}
    | {"RETURNING", "WITH", "DELETE", "INSERT", "CREATE", "ALTER", "DROP", "WINDOW"}
)


def _table_items(catalog: Catalog) -> Iterator[Completion]:
    live = sorted(catalog.schema.tables.values(), key=lambda t: t.name.lower())
    for table in live:
        yield Completion(
            table.name, "table", _table_detail(table), table_markdown(catalog, table.name) or ""
        )
    if catalog.expected is None:
        return
    pending = [t for t in catalog.expected.tables.values() if catalog.live(t.name) is None]
    for table in sorted(pending, key=lambda t: t.name.lower()):
        yield Completion(
            table.name,
            "table",
            _table_detail(table) + " — not applied",
            table_markdown(catalog, table.name) or "",
        )


def _table_detail(table: Table) -> str:
    return f"{'view' if table.is_view else 'table'}, {count_text(len(table.columns), 'column')}"


def _column_items(catalog: Catalog, tables: Sequence[Table]) -> Iterator[Completion]:
    for table in tables:
        live = catalog.live(table.name)
        defined = catalog.defined(table.name)
        columns = [(c, live is None) for c in (live or table).columns]
        columns.extend((c, True) for c in pending_columns(live, defined))
        for column, pending in columns:
            detail = f"{_column_summary(column)} — {table.name}"
            yield Completion(
                column.name,
                "column",
                detail + (" (not applied)" if pending else ""),
                column_markdown(catalog, table.name, column.name) or "",
            )


def _column_summary(column: Column) -> str:
    parts = [column.declared_type or "untyped"]
    if column.primary_key:
        parts.append("PRIMARY KEY")
    if column.not_null:
        parts.append("NOT NULL")
    return " ".join(parts)


def _keyword_items() -> Iterator[Completion]:
    for keyword in COMPLETION_KEYWORDS:
        yield Completion(keyword, "keyword", "keyword")

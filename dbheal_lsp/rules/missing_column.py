"""MISSING_COLUMN: a column its table does not have, through aliases, joins, CTEs and DML."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.statement import is_stand_in
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import expected_origin, issue, no_such, verdict_span
from dbheal_lsp.rules.rule import Rule


def missing_columns(facts: Facts) -> Iterator[Issue]:
    """MISSING_COLUMN: a column its table does not have, through aliases, joins, CTEs, DML."""
    if (
        not facts.has_schema
        or facts.verdict.kind not in ("no_table", "no_column")
        or facts.columns_undecidable
    ):
        return
    seen: set[str] = set()
    virtual = _virtual_tables(facts)
    for ref in facts.refs.columns if facts.refs else ():
        if ref.status != "missing" or is_stand_in(ref.name):
            continue
        if virtual and (
            ref.name.lower() in virtual
            or (ref.table is not None and ref.table.name.lower() in virtual)
            or (ref.qualifier or "").lower() in virtual
        ):
            continue  # a virtual table's hidden column: `fts MATCH ?`, `fts.rank`, `fts.rowid`
        seen.add(ref.name.lower())
        table = ref.table.name if ref.table else ref.qualifier
        yield _missing_column(facts, ref.name, table, ref.start, ref.end, ref.candidates)
    name = facts.verdict.name
    if facts.verdict.kind == "no_column" and name and name.lower() not in seen:
        if is_stand_in(name) or (facts.verdict.qualifier and is_stand_in(facts.verdict.qualifier)):
            return
        if virtual and (
            (facts.verdict.qualifier or "").lower() in virtual or name.lower() in virtual
        ):
            return
        table = _table_of_qualifier(facts, facts.verdict.qualifier)
        start, end = verdict_span(facts, name)
        candidates = [c.name for c in table.columns] if table else []
        yield _missing_column(facts, name, table.name if table else None, start, end, candidates)


def _virtual_tables(facts: Facts) -> frozenset[str]:
    """Return the (lower-case) names of the virtual tables the statement reads."""
    tables = facts.refs.tables if facts.refs else ()
    return frozenset(t.name.lower() for t in tables if t.table is not None and t.table.is_virtual)


def _table_of_qualifier(facts: Facts, qualifier: str | None) -> Any:
    if facts.refs is None:
        return facts.schema.table(qualifier) if qualifier else None
    if qualifier:
        real = next(
            (v for k, v in facts.refs.sources.items() if k.lower() == qualifier.lower()), qualifier
        )
        return facts.schema.table(real)
    tables = [t.table for t in facts.refs.tables if t.table is not None]
    return tables[0] if len(tables) == 1 else None


def _missing_column(
    facts: Facts, name: str, table: str | None, start: int, end: int, candidates: Any
) -> Issue:
    origin = expected_origin(facts, table, name) if table else None
    where = f"{table}." if table else ""
    message, suggestion = no_such("column", where + name, name, origin, "added", candidates)
    return issue(
        facts,
        RULE,
        start,
        end,
        message,
        table=table,
        column_name=name,
        origin=origin,
        suggestion=suggestion,
    )


RULE = Rule(
    IssueType.MISSING_COLUMN,
    "MissingColumn",
    Severity.CRITICAL,
    "SQL refers to a column the table does not have.",
    "The statement names a column that the table (or any table in scope) does not have "
    "in the SQLite schema, so it fails at run time with 'no such column'.",
    ("correctness", "sql"),
    missing_columns,
)

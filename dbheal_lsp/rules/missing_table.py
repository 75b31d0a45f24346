"""MISSING_TABLE: a table the schema does not have (SQLite says so; sqlglot says where)."""

from __future__ import annotations

from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.statement import is_stand_in
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import expected_origin, issue, no_such, verdict_span
from dbheal_lsp.rules.rule import Rule


def missing_tables(facts: Facts) -> Iterator[Issue]:
    """MISSING_TABLE: a table the schema does not have (SQLite says so; sqlglot says where)."""
    if not facts.has_schema or facts.verdict.kind not in ("no_table", "no_column"):
        return
    seen: set[str] = set()
    found_refs = facts.refs.tables if facts.refs else ()
    for ref in found_refs:
        if ref.missing and not is_stand_in(ref.name):
            seen.add(ref.name.lower())
            yield _missing_table(facts, ref.name, ref.start, ref.end)
    name = facts.verdict.name
    if (
        facts.verdict.kind == "no_table"
        and name
        and name.lower() not in seen
        and not is_stand_in(name)
    ):
        start, end = verdict_span(facts, name)
        yield _missing_table(facts, name, start, end)


def _missing_table(facts: Facts, name: str, start: int, end: int) -> Issue:
    origin = expected_origin(facts, name)
    tables = [t.name for t in facts.schema.tables.values()]
    message, suggestion = no_such("table", name, name, origin, "defined", tables)
    return issue(
        facts,
        RULE,
        start,
        end,
        message,
        table=name,
        origin=origin,
        suggestion=suggestion,
    )


RULE = Rule(
    IssueType.MISSING_TABLE,
    "MissingTable",
    Severity.CRITICAL,
    "SQL refers to a table the database does not have.",
    "The statement names a table or view that does not exist in the SQLite schema dbheal "
    "checked against, so it fails at run time with 'no such table'.",
    ("correctness", "sql"),
    missing_tables,
)

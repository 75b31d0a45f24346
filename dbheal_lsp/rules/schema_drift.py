"""SCHEMA_DRIFT seen from queries: a value meets a column whose type differs between the
database and its migrations. (The drift itself, at the migrations' lines, is
`analysis/drift.py`'s.)"""

from __future__ import annotations

from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import issue
from dbheal_lsp.rules.rule import Rule


def drift_on_queries(facts: Facts) -> Iterator[Issue]:
    """SCHEMA_DRIFT: a query reads a column whose type differs between database and migrations."""
    if facts.refs is None or not facts.drift.types:
        return
    reported: set[tuple[str, str]] = set()
    # Only where a value meets the column (compared, inserted, assigned) does its type matter.
    for ref in (c.column for c in facts.refs.comparisons):
        if ref.status != "ok" or ref.table is None:
            continue
        key = (ref.table.name.lower(), ref.name.lower())
        diff = facts.drift.types.get(key)
        if diff is None or key in reported:
            continue
        reported.add(key)
        origin = facts.settings.shown(diff.origin)
        yield issue(
            facts,
            RULE,
            ref.start,
            ref.end,
            f"{ref.table.name}.{ref.name} is {diff.db_type or 'untyped'} in the database but "
            f"{diff.expected_type or 'untyped'} in {origin or 'the migrations'}: the "
            "database has drifted from its migrations",
            table=ref.table.name,
            column_name=ref.name,
            db_type=diff.db_type,
            origin=origin,
        )


RULE = Rule(
    IssueType.SCHEMA_DRIFT,
    "SchemaDrift",
    Severity.HIGH,
    "Database schema differs from what the migrations define.",
    "The live database and the schema the migrations build disagree (a table, column, "
    "type or index is missing or different), so code checked against one may fail "
    "against the other.",
    ("correctness", "migrations"),
    drift_on_queries,
)

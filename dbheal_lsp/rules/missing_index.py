"""MISSING_INDEX: a filter, or the first rows by a column, that SQLite can only answer by
reading the whole table, where an index would let it search (its query plan says which)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbheal_lsp.analysis.oracle import Facts
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.model import Issue, IssueType, Severity
from dbheal_lsp.rules._issue import issue
from dbheal_lsp.rules.rule import Rule

# The first rows by one column: `ORDER BY t.col DESC LIMIT ...` (masked text: no strings).
SORTED_LIMIT = re.compile(
    r"\bORDER\s+BY\s+(?:[\"`\[]?(\w+)[\"`\]]?\.)?[\"`\[]?(\w+)[\"`\]]?(?:\s+(?:ASC|DESC))?"
    r"\s+LIMIT\b",
    re.IGNORECASE,
)
_TEMP_SORT = "USE TEMP B-TREE FOR ORDER BY"
# A full read: `SCAN t`, and the bare `SEARCH t` SQLite prints for `SELECT MAX(n) FROM t WHERE`.
FULL_READ = re.compile(r"^(?:SCAN (\S+)|SEARCH (\S+)$)")
_AUTOMATIC = re.compile(r"^SEARCH (\S+) USING AUTOMATIC (?:COVERING |PARTIAL )*INDEX \((\w+)")


def missing_indexes(facts: Facts) -> Iterator[Issue]:
    """MISSING_INDEX: full scans to filter, then full scans and sorts to find the first rows."""
    yield from _filter_indexes(facts)
    yield from _sort_indexes(facts)


def _filter_indexes(facts: Facts) -> Iterator[Issue]:
    """A filter SQLite answers with a full scan where an index would serve."""
    if (
        facts.refs is None
        or not facts.refs.filters
        or facts.verdict.kind != "ok"
        or not facts.has_schema
    ):
        return
    plan = facts.plan
    scanned = {(m.group(1) or m.group(2)).lower() for line in plan if (m := FULL_READ.match(line))}
    automatic = [(m.group(1).lower(), m.group(2)) for line in plan if (m := _AUTOMATIC.match(line))]
    done: set[str] = set()
    for f in facts.refs.filters:
        table = f.column.table
        if table is None or table.is_view or table.name.lower() in done:
            continue
        source = f.source.lower()
        auto = [col for src, col in automatic if src == source]
        if source not in scanned and f.column.name not in auto:
            continue
        columns = _index_columns(facts, source, table.name)
        if not columns or _has_usable_index(facts.schema, table.name, columns[0]):
            continue
        name = f"idx_{table.name}_{'_'.join(columns)}"
        if facts.plan_with_index is not None and not _index_serves(
            plan, facts.plan_with_index(table.name, tuple(columns), name), name
        ):
            continue  # SQLite would read as much with the index: it cures nothing
        done.add(table.name.lower())
        plan_line = next(
            (p for p in plan if p.lower().startswith(("scan " + source, "search " + source))), ""
        )
        message = (
            f"{table.name} is read in full to filter on {', '.join(columns)} "
            f"(query plan: {plan_line}); an index {name} on {table.name}({', '.join(columns)}) "
            f"would let {facts.judged_by} search it"
        )
        yield issue(
            facts,
            RULE,
            f.column.start,
            f.column.end,
            message,
            table=table.name,
            column_name=columns[0],
            suggestion=name,
        )


def _sort_indexes(facts: Facts) -> Iterator[Issue]:
    """The first rows by a column (`ORDER BY c DESC LIMIT n`) that SQLite finds
    by reading the whole table and sorting it, where an index on c would let it read them in
    order and stop at the limit."""
    if (
        facts.verdict.kind != "ok"
        or not facts.has_schema
        or _TEMP_SORT not in facts.plan
        or facts.plan_with_index is None
    ):
        return
    mask = masked(facts.rendered.text)
    scanned = {(m.group(1) or "").lower() for line in facts.plan if (m := FULL_READ.match(line))}
    for match in SORTED_LIMIT.finditer(mask):
        qualifier, column = match.group(1), match.group(2)
        tables = [
            t
            for t in facts.schema.tables.values()
            if t.name.lower() in scanned
            and (qualifier is None or qualifier.lower() == t.name.lower())
            and t.column(column) is not None
            and not t.is_view
        ]
        if len(tables) != 1 or _has_usable_index(facts.schema, tables[0].name, column):
            continue
        table, name = tables[0], f"idx_{tables[0].name}_{column}"
        if facts.refs is not None and any(
            f.column.table is not None
            and f.column.table.name.lower() == table.name.lower()
            and f.column.name.lower() == column.lower()
            for f in facts.refs.filters
        ):
            continue  # filtered on too: the filter's MISSING_INDEX proposes the same index
        after = facts.plan_with_index(table.name, (column,), name)
        if not after or _TEMP_SORT in after or not any(name in line for line in after):
            continue  # the index would not spare the sort: nothing to propose
        start, end = match.start(2), match.end(2)
        yield issue(
            facts,
            RULE,
            start,
            end,
            f"{table.name} is read in full and sorted to return its first rows by {column} "
            f"(query plan: SCAN {table.name}, {_TEMP_SORT}); an index {name} on "
            f"{table.name}({column}) would let {facts.judged_by} read them in order and stop at "
            "the LIMIT",
            table=table.name,
            column_name=column,
            suggestion=name,
        )


def _index_serves(before: tuple[str, ...], after: tuple[str, ...], name: str) -> bool:
    """Return whether the plan `after` searches with index `name` and reads fewer tables in
    full than `before` (a join that only swaps which table is scanned gains nothing)."""

    def full_reads(plan: tuple[str, ...]) -> int:
        return sum(1 for line in plan if FULL_READ.match(line) or "AUTOMATIC" in line)

    searches = any(line.startswith("SEARCH ") and f"INDEX {name} " in line for line in after)
    return searches and full_reads(after) < full_reads(before)


def _index_columns(facts: Facts, source: str, table: str) -> list[str]:
    seen: list[str] = []
    for f in facts.refs.filters if facts.refs else ():
        if f.source.lower() == source and f.column.table and f.column.table.name == table:
            col = f.column.table.column(f.column.name)
            if col is not None and col.name not in seen and col.primary_key == 0:
                seen.append(col.name)
    return seen


def _has_usable_index(schema: Schema, table: str, column: str) -> bool:
    found = schema.table(table)
    if found is not None:
        alias = found.rowid_alias
        if alias and alias.lower() == column.lower():
            return True
    return any(
        i.columns and i.columns[0].lower() == column.lower() for i in schema.indexes_on(table)
    )


RULE = Rule(
    IssueType.MISSING_INDEX,
    "MissingIndex",
    Severity.HIGH,
    "Query filters or joins on a column without an index.",
    "The statement filters, joins or sorts on a column that no index covers, so SQLite "
    "scans the whole table each time it runs.",
    ("performance", "sql"),
    missing_indexes,
)

"""Verifying a rebuilt table's copy: every row of new_X compared with its row in X, values
rewritten by the new affinity listed, lossy values treated as the plan says.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from dbheal_lsp.analysis.schema import Column, Table
from dbheal_lsp.databases.schema_fixes import CopyComparison, RewrittenValues
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.create_table import TEMP_PREFIX, quote_name
from dbheal_lsp.databases.sqlite.lossless import (
    EXAMPLE_WIDTH,
    CopyLayout,
    converted_sql,
    copy_layout,
    is_strict,
    lossless_sql,
    target_affinity,
)
from dbheal_lsp.databases.sqlite.rebuild import lossy_mode
from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyCheck, VerifyReport

# --- verifying the copy -----------------------------------------------------------------------


# A lossy row adds this to the per-row sum of `compare_copy`, a bad row adds 1: one sum then
# counts both, so the costly lossless test runs once per row.
_LOSSY_UNIT = 1 << 32


@dataclass(frozen=True)
class _Pair:
    """A table and its rebuilt copy, as the verification reads them side by side."""

    old: Table
    new: Table
    target: Column
    layout: CopyLayout
    affinity: str

    @property
    def join(self) -> str:
        return " AND ".join(f"{_both(k)[1]} = {_both(k)[0]}" for k in self.layout.key)

    @property
    def source(self) -> str:
        # NOT INDEXED: read X in its own order, so that the lookups into new_X (filled in that
        # order) walk its b-tree forwards instead of jumping about.
        return (
            f"{quote_name(self.old.name)} AS o NOT INDEXED "
            f"LEFT JOIN {quote_name(self.new.name)} AS n ON {self.join}"
        )


def _both(name: str) -> tuple[str, str]:
    """Return how the old row (o) and its copy (n) name the column `name`."""
    return f"o.{quote_name(name)}", f"n.{quote_name(name)}"


def _pair(conn: sqlite3.Connection, plan: MigrationPlan) -> _Pair:
    """Return the plan's table and its copy ``new_<table>``; raise ValueError if one is missing."""
    try:
        schema = schema_from_connection(conn, "database")
    except sqlite3.Error as exc:
        raise ValueError(f"cannot read the schema: {exc}") from None
    old = schema.table(plan.table)
    new = schema.table(TEMP_PREFIX + (old.name if old else plan.table))
    target = old.column(plan.column) if old is not None and plan.column else None
    if old is None or new is None or target is None:
        raise ValueError(
            f"{plan.table}, its column or its copy {TEMP_PREFIX}{plan.table} is missing"
        )
    layout = copy_layout(old, new, target.name)
    affinity = target_affinity(plan.new_type or "", is_strict(new))
    return _Pair(old, new, target, layout, affinity)


def _exactly(old: str, new: str) -> str:
    """Return a SQL condition: the two values are the same byte for byte (type and value).

    Unary + takes the columns' affinities away, so that neither side is converted to compare
    them; BINARY, so that a column's collation cannot hide a difference.
    """
    return f"(typeof({new}) = typeof({old}) AND +{new} = +{old} COLLATE BINARY)"


def rewritten_values(
    conn: sqlite3.Connection, plan: MigrationPlan, limit: int = 10
) -> RewrittenValues:
    """Return the lossy values that the new column's affinity changed in the copy.

    Run after the copy, inside the rebuild's transaction. A value counts when its copy
    differs from it in storage class or in value ('007' became 7, '1e3' became 1000,
    '12.5' became the real 12.5): "keep" cannot keep such a value, since SQLite converts it
    again on any write to a column of that affinity. Raises ValueError if the copy is missing.
    """
    pair = _pair(conn, plan)
    o_col, n_col = _both(pair.target.name)
    keys = list(pair.layout.key)
    key_sql = " || ', ' || ".join(f"quote({_both(k)[0]})" for k in keys)
    rows = conn.execute(
        f"SELECT 1, count(*), NULL, NULL, NULL, NULL FROM {pair.source} "
        f"WHERE NOT {lossless_sql(o_col, pair.affinity)} "
        f"UNION ALL SELECT 0, {key_sql}, quote({o_col}), quote({n_col}), typeof({n_col}), "
        f"typeof({o_col}) FROM {pair.source} WHERE NOT {lossless_sql(o_col, pair.affinity)} "
        f"AND NOT {_exactly(o_col, n_col)}"
    )
    label = ", ".join(keys)
    count = lossy = 0
    examples: list[str] = []
    for is_total, key, before, after, after_type, before_type in rows:
        if is_total:
            lossy = int(key)
            continue
        count += 1
        if len(examples) < limit:
            shown = after if after_type == before_type else f"{after} ({after_type})"
            examples.append(f"{label} {key}: {_clip(before)} would become {_clip(shown)}")
    return RewrittenValues(count, lossy, tuple(examples))


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_WIDTH else text[: EXAMPLE_WIDTH - 3] + "..."


def compare_copy(conn: sqlite3.Connection, plan: MigrationPlan) -> CopyComparison:
    """Compare every row of the plan's table with its copy in ``new_<table>``, in one pass.

    See `verify_copy`; this also returns the row count and the number of lossy values seen,
    so that the executor needs no separate scan to find them.
    """
    try:
        pair = _pair(conn, plan)
    except ValueError as exc:
        return CopyComparison(VerifyReport((VerifyCheck("copy", False, str(exc)),)), 0, 0)
    old, new, target, layout, affinity = pair.old, pair.new, pair.target, pair.layout, pair.affinity
    both = _both
    same = [f"{both(layout.key[0])[1]} IS NOT NULL"]  # the row has a copy
    same += [
        f"{o} IS {n} COLLATE BINARY"
        for o, n in map(both, layout.columns)
        if o != both(target.name)[0]
    ]
    o_col, n_col = both(target.name)
    equal = f"{n_col} IS {converted_sql(o_col, affinity)} COLLATE BINARY"
    if lossy_mode(plan) == "null":
        kept = f"{n_col} IS NULL"
    else:
        # Here only its NULL-ness: whether the copy kept it byte for byte ('abc' stays, '007'
        # would be 7) is asked only when there are lossy values (`rewritten_values`), so that
        # a clean copy pays nothing for it.
        kept = f"({n_col} IS NULL) = ({o_col} IS NULL)"
    per_row = (
        f"CASE WHEN NOT ({' AND '.join(same)}) THEN 1 "
        f"WHEN {lossless_sql(o_col, affinity)} THEN (CASE WHEN {equal} THEN 0 ELSE 1 END) "
        f"ELSE {_LOSSY_UNIT} + (CASE WHEN {kept} THEN 0 ELSE 1 END) END"
    )
    source = pair.source
    row = conn.execute(
        f"SELECT count(*), sum({per_row}), (SELECT count(*) FROM {quote_name(new.name)}) "
        f"FROM {source}"
    ).fetchone()
    old_rows, total, new_rows = int(row[0]), int(row[1] or 0), int(row[2])
    bad, lossy_seen = total % _LOSSY_UNIT, total // _LOSSY_UNIT
    checks = [
        VerifyCheck(
            "copy: row count",
            old_rows == new_rows,
            f"{old_rows} row(s) in {old.name}, {new_rows} in {new.name}",
        )
    ]
    detail = f"all {old_rows} row(s) equal"
    if bad:
        key_sql = ", ".join(f"quote({both(k)[0]})" for k in layout.key)
        first = conn.execute(
            f"SELECT {key_sql} FROM {source} WHERE ({per_row}) % {_LOSSY_UNIT} LIMIT 1"
        ).fetchone()
        detail = (
            f"{bad} row(s) differ from their copy; the first has {', '.join(layout.key)} = "
            f"{', '.join(str(v) for v in first or ())}"
        )
    checks.append(VerifyCheck("copy: rows equal", bad == 0, detail))
    return CopyComparison(VerifyReport(tuple(checks)), old_rows, lossy_seen)


def verify_copy(
    conn: sqlite3.Connection, plan: MigrationPlan, lossy: LossyReport | None
) -> VerifyReport:
    """Compare every row of the plan's table with its copy in ``new_<table>``, in one pass.

    Run inside the rebuild's transaction, before the old table is dropped. Checks that the row
    counts are equal, that every unchanged stored column is identical (``IS``, binary collation)
    and that every converted value equals its source converted to the new type. A lossy value
    must be NULL when the plan nulls them, and keep its NULL-ness when the plan keeps them
    (whether it is kept byte for byte is `rewritten_values`' question, which the executor asks
    when there are lossy values to keep). With `lossy`, the number of lossy values seen must be
    the number it reported.
    """
    found = compare_copy(conn, plan)
    checks = list(found.report.checks)
    if lossy is not None:
        checks.append(
            VerifyCheck(
                "copy: lossy values",
                found.lossy_count == lossy.lossy_count,
                f"{found.lossy_count} lossy value(s) seen, {lossy.lossy_count} reported",
            )
        )
    return VerifyReport(tuple(checks))

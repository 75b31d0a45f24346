"""The inverse of a recorded schema fix on PostgreSQL: the change that undoes it and keeps every
row written since, run through the same executor as fixes (one transaction, checked, committed).

The same contract as SQLite's (databases/sqlite/inverse.py):

- CREATE INDEX [CONCURRENTLY] i       -> DROP INDEX i;
- ALTER TABLE t ADD COLUMN c          -> ALTER TABLE t DROP COLUMN c, refused while c holds values
  other than its default (they were written since the fix);
- CREATE TABLE t                      -> DROP TABLE t, refused while t holds rows;
- a type change                       -> ALTER COLUMN ... TYPE back to the old type (read from
  the fix's backup manifest), refused when values written since would not convert back
  losslessly.

`InverseRefused`: undoing would delete or change data written since (nothing may run).
`NoInverse`: the plan holds a statement dbheal cannot undo by a change of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.databases.postgres import type_change as tc
from dbheal_lsp.databases.postgres.backup import read_manifest
from dbheal_lsp.databases.postgres.fix_transaction import catalog_version
from dbheal_lsp.databases.schema_fixes import FixTransaction, InverseRefused, NoInverse, Undo
from dbheal_lsp.model import MigrationPlan, PlanStep, VerifyCheck, VerifyReport

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresInverse", "inverse_plan"]

_NAME = r'"?([\w$]+)"?(?:\s*\.\s*"?([\w$]+)"?)?'
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + _NAME, re.I)
_CREATE_INDEX = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    r"\"?([\w$]+)",
    re.I,
)
_ADD_COLUMN = re.compile(
    r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _NAME + r"\s+ADD\s+(?:COLUMN\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?\"?([\w$]+)",
    re.I,
)


@dataclass(frozen=True)
class PostgresInverse:
    """The inverse of a fix: the plan, what it removes, and the check that proves it."""

    plan: MigrationPlan
    undoes: tuple[Undo, ...]
    schema: str

    def check(self, transaction: FixTransaction) -> VerifyReport:
        """Whether everything the fix made is gone (or the old type is back), in the inverse's
        own transaction."""
        conn: psycopg.Connection[Any] = getattr(transaction, "conn")  # noqa: B009
        checks = []
        for undo in self.undoes:
            if undo.kind == "type":
                now = tc.column_type(conn, self.schema, undo.table, undo.name)
                ok = now is not None and now == undo.old_type
                detail = f"declared {now or '(missing)'}"
                checks.append(VerifyCheck(f"{undo.label} is {undo.old_type} again", ok, detail))
                continue
            gone = not _exists(conn, self.schema, undo)
            checks.append(VerifyCheck(f"{undo.label} removed", gone, "" if gone else "still there"))
        return VerifyReport(tuple(checks))


def _exists(conn: psycopg.Connection[Any], schema: str, undo: Undo) -> bool:
    if undo.kind == "column":
        return tc.column_type(conn, schema, undo.table, undo.name) is not None
    row = conn.execute(
        "SELECT to_regclass(%s)", (f"{tc.quote(schema)}.{tc.quote(undo.name)}",)
    ).fetchone()
    return bool(row and row[0] is not None)


def inverse_plan(
    conn: psycopg.Connection[Any],
    schema: str,
    plans: Sequence[MigrationPlan],
    *,
    fix_id: str,
    backup: Path,
) -> PostgresInverse:
    """The inverse of fix `fix_id`'s `plans` against the server now (module docstring)."""
    if not plans:
        raise NoInverse("its plan records no schema change")
    steps: list[PlanStep] = []
    undoes: list[Undo] = []
    for plan in reversed(plans):
        if plan.kind == "change_type" and plan.column:
            step, undo = _type_back(conn, schema, plan, backup)
            steps.append(step)
            undoes.append(undo)
            continue
        for step in reversed(plan.steps):
            if step.kind == "sql":
                made = _undo_step(conn, schema, step.sql)
                if made is not None:
                    steps.append(made[0])
                    undoes.append(made[1])
    what = ", ".join(u.label for u in undoes)
    first = plans[0]
    plan = MigrationPlan(
        id=f"rollback:{fix_id}",
        kind="rollback",
        title=f"Undo {first.title}",
        description=f"Undoes what fix {fix_id} changed: {what}. Rows written since stay.",
        table=first.table,
        steps=tuple(steps),
        expected=f"{what} undone; every other table and row as it is",
        schema_version=catalog_version(conn, schema),
    )
    return PostgresInverse(plan, tuple(undoes), schema)


def _undo_step(
    conn: psycopg.Connection[Any], schema: str, sql: str
) -> tuple[PlanStep, Undo] | None:
    """The step undoing one statement of a fix (None: already undone); raise NoInverse or
    InverseRefused."""
    if found := _CREATE_INDEX.match(sql):
        name = found.group(1)
        undo = Undo("index", name)
        if not _exists(conn, schema, undo):
            return None
        return PlanStep(f"DROP INDEX {tc.quote(schema)}.{tc.quote(name)}"), undo
    if found := _ADD_COLUMN.match(sql):
        table, column = found.group(2) or found.group(1), found.group(3)
        undo = Undo("column", column, table)
        if not _exists(conn, schema, undo):
            return None
        written = _values_written(conn, schema, table, column)
        if written:
            raise InverseRefused(
                f"column {table}.{column} holds {written} value(s) other than its default, "
                "written since the fix: dropping it would delete them"
            )
        return PlanStep(f"ALTER TABLE {tc.quote(table)} DROP COLUMN {tc.quote(column)}"), undo
    if found := _CREATE_TABLE.match(sql):
        table = found.group(2) or found.group(1)
        undo = Undo("table", table)
        if not _exists(conn, schema, undo):
            return None
        relation = f"{tc.quote(schema)}.{tc.quote(table)}"
        row = conn.execute(f"SELECT count(*) FROM {relation}").fetchone()
        rows = int(row[0]) if row else 0
        if rows:
            raise InverseRefused(
                f"table {table} holds {rows} row(s) written since the fix: dropping it would "
                "delete them"
            )
        return PlanStep(f"DROP TABLE {tc.quote(table)}"), undo
    shown = " ".join(sql.split())[:60]
    raise NoInverse(f"dbheal has no inverse of {shown!r}")


def _values_written(conn: psycopg.Connection[Any], schema: str, table: str, column: str) -> int:
    """How many rows hold a value of the column other than its default (NULL without one)."""
    row = conn.execute(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON "
        "a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = to_regclass(%s) "
        "AND a.attname = %s",
        (f"{tc.quote(schema)}.{tc.quote(table)}", column),
    ).fetchone()
    default = f"({row[0]})" if row and row[0] else "NULL"
    relation = f"{tc.quote(schema)}.{tc.quote(table)}"
    found = conn.execute(
        f"SELECT count(*) FROM {relation} WHERE {tc.quote(column)} IS DISTINCT FROM {default}"
    ).fetchone()
    return int(found[0]) if found else 0


def _type_back(
    conn: psycopg.Connection[Any], schema: str, plan: MigrationPlan, backup: Path
) -> tuple[PlanStep, Undo]:
    """The type change back to the type the backup manifest records."""
    column = plan.column or ""
    try:
        columns = read_manifest(backup)["tables"].get(plan.table, ["", 0])[0]
    except ValueError as exc:
        raise NoInverse(str(exc)) from None
    old = _type_in(str(columns), column)
    if old is None:
        raise NoInverse(f"its backup does not record the type of {plan.table}.{column}")
    try:
        found = tc.lossy_report(conn, schema, plan.table, column, old, 3)
    except ValueError as exc:
        raise NoInverse(f"the type {old} cannot be checked: {exc}") from None
    if not found.lossless:
        raise InverseRefused(
            f"{found.lossy_count} value(s) of {plan.table}.{column} written since the fix would "
            f"not convert back to {old} losslessly (e.g. {', '.join(found.examples[:2])})"
        )
    sql = (
        f"ALTER TABLE {tc.quote(plan.table)} ALTER COLUMN {tc.quote(column)} TYPE {old} "
        f"USING {tc.quote(column)}::{old}"
    )
    return PlanStep(sql), Undo("type", column, plan.table, old)


def _type_in(columns: str, column: str) -> str | None:
    """The type of `column` in a manifest's "a integer, b text" (column names have no spaces
    or commas: they are the catalog's)."""
    for part in columns.split(", "):
        name, _, kind = part.partition(" ")
        if name == column and kind:
            return kind
    return None

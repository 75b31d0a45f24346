"""The inverse of a recorded schema fix: the change that undoes it and keeps every later row.

A fix's plan says what it created; the inverse drops exactly that, newest first, and runs
through the same executor as fixes (`fixes/apply.py`: one transaction, verify, commit):

- CREATE INDEX / TRIGGER / VIEW  -> DROP INDEX / TRIGGER / VIEW;
- ALTER TABLE t ADD COLUMN c     -> ALTER TABLE t DROP COLUMN c, refused while c holds values
  other than its default (they were written since the fix);
- CREATE TABLE t                 -> DROP TABLE t, refused while t holds rows;
- a type change                  -> the reverse rebuild to the old declared type (read from the
  fix's database backup), refused when values written since would not convert back losslessly.

`InverseRefused` means undoing the change would delete data written since the fix: nothing may
run. `NoInverse` means the plan holds a step dbheal cannot undo by a change of its own (a data
statement, say): only a restore of the backup can undo it, and `fixes/rollback.py` decides
whether that is safe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dbheal_lsp.analysis.sqllex import Token, significant_tokens
from dbheal_lsp.databases.schema_fixes import FixTransaction, InverseRefused, NoInverse, Undo
from dbheal_lsp.databases.sqlite import rebuild
from dbheal_lsp.databases.sqlite.create_table import quote_name
from dbheal_lsp.databases.sqlite.lossless import lossy_report
from dbheal_lsp.model import MigrationPlan, PlanStep, VerifyCheck, VerifyReport

__all__ = ["Inverse", "InverseRefused", "NoInverse", "Undo", "created_by", "inverse_plan"]

_OBJECT_KINDS = ("table", "index", "trigger", "view")


@dataclass(frozen=True)
class Inverse:
    """The inverse of a fix: the plan to run and what it removes, with the check that proves
    it inside the plan's transaction."""

    plan: MigrationPlan
    undoes: tuple[Undo, ...]

    def check(self, transaction: FixTransaction) -> VerifyReport:
        """Return whether everything the fix made is gone (or its type is back), read in the
        inverse's own transaction."""
        from dbheal_lsp.databases.sqlite.transaction import connection_of

        conn = connection_of(transaction)
        checks: list[VerifyCheck] = []
        for undo in self.undoes:
            if undo.kind == "type":
                now = _declared_type(conn, undo.table, undo.name)
                ok = now is not None and now.upper() == undo.old_type.upper()
                checks.append(
                    VerifyCheck(
                        f"{undo.label} is {undo.old_type} again",
                        ok,
                        f"declared {now if now is not None else '(missing)'}",
                    )
                )
            elif undo.kind == "column":
                gone = _declared_type(conn, undo.table, undo.name) is None
                checks.append(VerifyCheck(f"{undo.label} dropped", gone))
            else:
                gone = not _exists(conn, undo.kind, undo.name)
                checks.append(VerifyCheck(f"{undo.label} dropped", gone))
        return VerifyReport(tuple(checks))


# --- what a statement creates -----------------------------------------------------------------


def _keyword(tokens: Sequence[Token], at: int) -> str:
    return tokens[at].word if at < len(tokens) else ""


def _qualified(tokens: Sequence[Token], at: int) -> tuple[str, int] | None:
    """Return the object name at `at` (a schema prefix skipped) and the index after it."""
    if at >= len(tokens):
        return None
    if at + 2 < len(tokens) and tokens[at + 1].text == ".":
        return tokens[at + 2].name, at + 3
    return tokens[at].name, at + 1


def created_by(sql: str) -> Undo | None:
    """Return what the statement `sql` creates (a table, index, trigger or view, or a column it
    adds), or None if it is any other statement."""
    tokens = significant_tokens(sql)
    at = 0
    if _keyword(tokens, 0) == "CREATE":
        at = 1
        if _keyword(tokens, at) in ("TEMP", "TEMPORARY"):
            return None  # a temporary object is gone with the connection that made it
        while _keyword(tokens, at) in ("UNIQUE", "VIRTUAL"):
            at += 1
        kind = _keyword(tokens, at).lower()
        if kind not in _OBJECT_KINDS:
            return None
        at += 1
        if [_keyword(tokens, at + i) for i in range(3)] == ["IF", "NOT", "EXISTS"]:
            at += 3
        named = _qualified(tokens, at)
        return Undo(kind, named[0]) if named else None
    if _keyword(tokens, 0) == "ALTER" and _keyword(tokens, 1) == "TABLE":
        named = _qualified(tokens, 2)
        if named is None:
            return None
        table, at = named
        if _keyword(tokens, at) != "ADD":
            return None
        at += 1
        if _keyword(tokens, at) == "COLUMN":
            at += 1
        if at >= len(tokens):
            return None
        return Undo("column", tokens[at].name, table)
    return None


# --- the live database ------------------------------------------------------------------------


def _exists(conn: sqlite3.Connection, kind: str, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = ? AND name = ? COLLATE NOCASE",
        (kind, name),
    ).fetchone()
    return row is not None


def _column_info(conn: sqlite3.Connection, table: str, column: str) -> tuple[str, object] | None:
    """Return the declared type and default expression of `table.column`, None if missing."""
    if not _exists(conn, "table", table):
        return None
    for row in conn.execute(f"PRAGMA main.table_xinfo({quote_name(table)})"):
        if str(row[1]).lower() == column.lower():
            return str(row[2] or ""), row[4]
    return None


def _declared_type(conn: sqlite3.Connection, table: str, column: str) -> str | None:
    info = _column_info(conn, table, column)
    return info[0] if info is not None else None


def _count(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what}s"


def _undo_step(conn: sqlite3.Connection, undo: Undo) -> PlanStep | None:
    """Return the statement that removes `undo` from the live database, None if it is gone
    already; raise InverseRefused if removing it would delete data written since the fix."""
    q = quote_name
    if undo.kind == "column":
        info = _column_info(conn, undo.table, undo.name)
        if info is None:
            return None
        default = info[1]
        # Rows written since the fix may hold values in the new column: dropping it would
        # delete them. Its default value is what the fix itself put there.
        same = (
            f"{q(undo.name)} IS ({default})" if default is not None else f"{q(undo.name)} IS NULL"
        )
        held = int(
            conn.execute(f"SELECT count(*) FROM {q(undo.table)} WHERE NOT ({same})").fetchone()[0]
        )
        if held:
            raise InverseRefused(
                f"{undo.table}.{undo.name} holds {_count(held, 'value')} written since the fix; "
                "rolling back would delete them"
            )
        return PlanStep(f"ALTER TABLE {q(undo.table)} DROP COLUMN {q(undo.name)}")
    if not _exists(conn, undo.kind, undo.name):
        return None
    if undo.kind == "table":
        rows = int(conn.execute(f"SELECT count(*) FROM {q(undo.name)}").fetchone()[0])
        if rows:
            raise InverseRefused(
                f"{undo.name} has {_count(rows, 'row')} written since the fix; "
                "rolling back would delete them"
            )
    return PlanStep(f"DROP {undo.kind.upper()} {q(undo.name)}")


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA schema_version").fetchone()[0])


# --- the inverse ------------------------------------------------------------------------------


def inverse_plan(
    conn: sqlite3.Connection,
    changes: Sequence[MigrationPlan],
    *,
    fix_id: str,
    before: sqlite3.Connection | None = None,
) -> Inverse:
    """Return the inverse of the schema `changes` of fix `fix_id`, planned against the live
    database `conn` (read-only is fine); `before` reads the fix's database backup (needed to
    undo a type change: it knows the old type).

    Raises InverseRefused when undoing would delete or change data written since the fix (a
    table it created has rows, a column it added holds values, values would not convert back
    losslessly), NoInverse when a step cannot be undone by a change of dbheal's own."""
    if not changes:
        raise NoInverse("the fix recorded no schema plan")
    if any(p.kind == "change_type" for p in changes):
        if len(changes) != 1:
            raise NoInverse("a type change recorded together with other changes")
        return _reverse_rebuild(conn, changes[0], fix_id, before)
    undoes: list[Undo] = []
    for plan in changes:
        for number, step in enumerate(plan.steps, 1):
            if step.kind != "sql":
                raise NoInverse(f"step {number} of {plan.title} is a {step.kind} step")
            made = created_by(step.sql)
            if made is None:
                first = " ".join(step.sql.split())[:60]
                raise NoInverse(f"step {number} of {plan.title} ({first}) has no inverse")
            undoes.append(made)
    steps: list[PlanStep] = []
    kept: list[Undo] = []
    # Newest first: an index the fix made on its new column goes before the column does.
    for undo in reversed(undoes):
        drop = _undo_step(conn, undo)
        if drop is not None:
            steps.append(drop)
            kept.append(undo)
    first_plan = changes[0]
    what = ", ".join(u.label for u in kept) or "nothing (all of it is gone already)"
    plan = MigrationPlan(
        id=f"rollback:{fix_id}",
        kind="rollback",
        title=f"Undo {first_plan.title}",
        description=f"Drops what fix {fix_id} created: {what}. Rows written since stay.",
        table=first_plan.table,
        steps=tuple(steps),
        expected=f"{what} gone; every other table and row as it is",
        schema_version=_schema_version(conn),
    )
    return Inverse(plan, tuple(kept))


def _reverse_rebuild(
    conn: sqlite3.Connection,
    plan: MigrationPlan,
    fix_id: str,
    before: sqlite3.Connection | None,
) -> Inverse:
    table, column = plan.table, plan.column or ""
    if before is None:
        raise NoInverse("the database backup that knows the old type is missing")
    try:
        old_type = _declared_type(before, table, column)
    except sqlite3.Error as exc:
        raise NoInverse(f"the database backup cannot be read: {exc}") from exc
    now = _declared_type(conn, table, column)
    if old_type is None or now is None:
        raise NoInverse(f"{table}.{column} is missing from the backup or the database")
    if now.strip().upper() != (plan.new_type or "").strip().upper():
        raise NoInverse(
            f"{table}.{column} is declared {now or '(no type)'} now, not as the fix left it"
        )
    if not old_type.strip():
        raise NoInverse(f"{table}.{column} had no declared type before the fix")
    try:
        lossy = lossy_report(conn, table, column, old_type)
        reverse = rebuild.change_type_plan(conn, table, column, old_type, on_lossy="refuse")
    except ValueError as exc:
        raise NoInverse(f"cannot change {table}.{column} back to {old_type}: {exc}") from exc
    if not lossy.lossless:
        rowids = ", ".join(str(r) for r in lossy.first_rowids)
        examples = ", ".join(lossy.examples[:3])
        raise InverseRefused(
            f"{_count(lossy.lossy_count, 'value')} of {table}.{column} would not convert back "
            f"to {old_type} losslessly"
            + (f" (rowids {rowids})" if rowids else "")
            + (f", e.g. {examples}" if examples else "")
            + "; rolling back would change them"
        )
    undo = Undo("type", reverse.column or column, reverse.table, old_type)
    reverse = replace(
        reverse,
        id=f"rollback:{fix_id}",
        title=f"Change the type of {reverse.table}.{reverse.column} back to {old_type}",
        migration_name="",
    )
    return Inverse(reverse, (undo,))

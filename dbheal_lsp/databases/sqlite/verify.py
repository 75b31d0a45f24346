"""The checks a plan's result must pass inside its transaction, before the executor commits:
integrity of what it wrote, foreign keys it can have broken, the plan's queries prepare, and a
new index is used by them. Each returns VerifyChecks; `fixes/apply.py` runs them.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from typing import Any

from dbheal_lsp.databases.sqlite.create_table import quote_name
from dbheal_lsp.model import MigrationPlan, VerifyCheck

__all__ = ["foreign_keys", "index_names", "index_used", "integrity", "prepares"]

_BINDINGS_USED = re.compile(r"uses (\d+), and there (?:are|is) \d+ supplied")


class _AnyName(dict[str, Any]):
    """Parameters for a statement with named placeholders: NULL for every name.

    A dict, because sqlite3 takes named parameters from dicts only; it looks each name up.
    """

    def __missing__(self, key: str) -> None:
        return None


def _run_with_any_parameters(conn: sqlite3.Connection, sql: str) -> list[Any]:
    """Run `sql` (an EXPLAIN), binding NULL to whatever placeholders it has.

    The text is made one sqlite3 has never cached: it keeps prepared statements by their text,
    and SQLite does not prepare an EXPLAIN again after the schema changed on the same
    connection (a rebuild's steps), so a cached one would be checked against the old schema.
    """
    sql = f"{sql}\n/* dbheal check {uuid.uuid4().hex} */"
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.ProgrammingError as exc:
        # The statement prepared (SQLite counted its placeholders); bind NULLs and go on.
        text = str(exc)
        count = _BINDINGS_USED.search(text)
        if count is not None:
            return conn.execute(sql, (None,) * int(count.group(1))).fetchall()
        if "binding parameter" in text:
            return conn.execute(sql, _AnyName()).fetchall()
        raise


def integrity(conn: sqlite3.Connection, plan: MigrationPlan, full: bool) -> VerifyCheck:
    """Run quick_check on the plan's table (integrity_check of the whole file when `full`)."""
    if full:
        name, sql = "integrity_check", "PRAGMA integrity_check"
    else:
        # The transaction wrote only this table, its indexes and the schema: checking those
        # keeps a one-row fix fast on a large database (the whole file: full_integrity).
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (plan.table,),
        ).fetchone()
        target = quote_name(plan.table) if exists else None
        name = "quick_check"
        sql = f"PRAGMA quick_check({target})" if target else "PRAGMA quick_check"
    rows = [str(r[0]) for r in conn.execute(sql).fetchall()]
    if sql != "PRAGMA quick_check" and not full:
        rows += [str(r[0]) for r in conn.execute("PRAGMA quick_check(sqlite_schema)").fetchall()]
    ok = all(r == "ok" for r in rows)
    return VerifyCheck(name, ok, "ok" if ok else "; ".join(r for r in rows if r != "ok")[:500])


def _fk_tables(conn: sqlite3.Connection, plan: MigrationPlan) -> tuple[str, ...]:
    """Return the tables whose foreign keys the plan can have broken.

    The plan's own table always. Tables whose keys point at it only when a type change
    converts a column they reference: every other column is proven unchanged row by row by
    the copy's verification, so their keys still find the same parents.
    """
    table = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
        (plan.table,),
    ).fetchone()
    if table is None:
        return ()
    names = [str(table[0])]
    if plan.kind == "change_type" and plan.column:
        rows = conn.execute(
            "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f "
            'WHERE m.type = \'table\' AND f."table" = :t COLLATE NOCASE AND (f."to" = :c '
            'COLLATE NOCASE OR (f."to" IS NULL AND EXISTS (SELECT 1 FROM pragma_table_info(:t) '
            "WHERE pk > 0 AND name = :c COLLATE NOCASE)))",
            {"t": names[0], "c": plan.column},
        ).fetchall()
        names += [str(r[0]) for r in rows if str(r[0]).lower() != names[0].lower()]
    return tuple(names)


def foreign_keys(conn: sqlite3.Connection, plan: MigrationPlan) -> VerifyCheck:
    """Run foreign_key_check on the tables whose keys the plan can have broken."""
    tables = _fk_tables(conn, plan)
    found: list[tuple[Any, ...]] = []
    for table in tables:
        found.extend(
            tuple(r) for r in conn.execute(f"PRAGMA foreign_key_check({quote_name(table)})")
        )
    if found:
        shown = "; ".join(f"{t} rowid {r} has no parent in {p}" for t, r, p, _ in found[:3])
        return VerifyCheck("foreign_key_check", False, f"{len(found)} violation(s): {shown}")
    return VerifyCheck("foreign_key_check", True, f"no violations in {', '.join(tables) or '-'}")


def index_names(conn: sqlite3.Connection) -> set[str]:
    """Return the names of the database's indexes, lower-cased."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {str(r[0]).lower() for r in rows}


def index_used(
    conn: sqlite3.Connection, plan: MigrationPlan, before: set[str]
) -> list[VerifyCheck]:
    """Check that a create_index plan made an index and that the plan's queries use it."""
    new = sorted(index_names(conn) - before)
    if not new:
        return [VerifyCheck("index created", False, "the plan created no index")]
    checks = [VerifyCheck("index created", True, ", ".join(new))]
    pattern = re.compile(r"\bINDEX\s+[\"`\[]?(" + "|".join(map(re.escape, new)) + r")\b", re.I)
    for sql in plan.check_sql:
        try:
            rows = _run_with_any_parameters(conn, "EXPLAIN QUERY PLAN " + sql)
        except sqlite3.Error as exc:
            checks.append(VerifyCheck(f"index used: {sql}", False, str(exc)))
            continue
        details = " | ".join(str(r[-1]) for r in rows)
        checks.append(VerifyCheck(f"index used: {sql}", bool(pattern.search(details)), details))
    return checks


def prepares(conn: sqlite3.Connection, plan: MigrationPlan) -> list[VerifyCheck]:
    """Check that every query of the plan's `check_sql` prepares against the new schema."""
    checks = []
    for sql in plan.check_sql:
        try:
            _run_with_any_parameters(conn, "EXPLAIN " + sql)
            checks.append(VerifyCheck(f"prepares: {sql}", True))
        except sqlite3.Error as exc:
            checks.append(VerifyCheck(f"prepares: {sql}", False, str(exc)))
    return checks

"""The SQLite judge: statements prepared against a scratch copy of a schema, answers read back.

SQLite is the oracle: a statement is prepared (behind EXPLAIN) on an in-memory copy of the
schema (a sandbox, sandbox.py, built by `oracle_connection` in catalog.py) and its error
message read back as a `Verdict` (analysis/oracle.py); EXPLAIN QUERY PLAN says how it would be
run, and with one more index made and undone in a savepoint. `SqliteJudge` is the seam's
`Judge` (databases/database.py) over such a copy.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from dbheal_lsp.analysis.oracle import DEFINED_TWICE, Verdict
from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.database import Ran
from dbheal_lsp.databases.sqlite.catalog import oracle_connection, schema_from_connection
from dbheal_lsp.databases.sqlite.sandbox import BudgetExceeded, Refused, Sandbox, first_keyword

__all__ = ["SqliteJudge", "open_judge", "plan_with_index", "prepare", "query_plan", "undone"]

_NO_TABLE = re.compile(r"no such table: (?:main\.)?(\S+)")
_NO_COLUMN = re.compile(r"no such column: (\S+)")
_HAS_NO_COLUMN = re.compile(r"table (\S+) has no column named (\S+)")
_NEAR = re.compile(r'near "((?:[^"]|"")*)": syntax error')
_AMBIGUOUS = re.compile(r"ambiguous column name: (\S+)")
# SQLite's words for DDL whose change the schema already has.
_EXISTS = re.compile(r"^(?:table|index|view|trigger) (\S+) already exists")
_DUPLICATE_COLUMN = re.compile(r"^duplicate column name: (\S+)")
_NO_OBJECT = re.compile(r"^no such (?:table|index|view|trigger): (\S+)")

# Errors that depend on what the application registers at run time, not on the schema.
_RUNTIME_DEPENDENT = ("no such function", "no such module", "no such collation", "unknown database")


def prepare(oracle: Sandbox, text: str) -> Verdict:
    """Return SQLite's verdict on preparing `text` on the schema copy `oracle`."""
    body = text.strip()
    if not body or (body.startswith("--") and "\n" not in body):
        return Verdict("ok")
    try:
        oracle.explain(text)
    except (Refused, BudgetExceeded) as exc:
        # dbheal never runs what the sandbox refuses (PRAGMA x = y, ATTACH): not judged, and
        # so not a finding against the application, which may well run it.
        return Verdict("ok", f"not judged: {exc.message}")
    except sqlite3.ProgrammingError as exc:
        # Raised after a successful prepare: bindings missing, or more statements follow.
        message = str(exc)
        if "binding" in message or "one statement" in message:
            return Verdict("ok")
        return Verdict("error", message)
    except sqlite3.Warning:
        return Verdict("ok")
    except sqlite3.Error as exc:
        return _already_applied(text, _verdict_of(str(exc)))
    return Verdict("ok")


def _already_applied(text: str, verdict: Verdict) -> Verdict:
    """Return `verdict`, or an "applied" one when `text` is DDL the schema already reflects.

    Upgrade code keeps its old steps: `CREATE TABLE x` when x exists, `ALTER TABLE ... ADD
    COLUMN` of a column that exists, `DROP TABLE x` when x is gone. Against today's schema they
    fail, but that is what running them again does, not a defect. A CREATE TABLE naming one
    column twice is broken on every run, so that stays an error, pointing at the second one.
    """
    message = verdict.message
    keyword = first_keyword(text)
    if keyword == "CREATE" and (m := _EXISTS.match(message)):
        return Verdict("applied", message, _unquote(m.group(1)))
    if (m := _DUPLICATE_COLUMN.match(message)) is not None:
        name = _unquote(m.group(1))
        if keyword == "ALTER":
            return Verdict("applied", message, name)
        return Verdict("error", f"column {name}{DEFINED_TWICE}", name)
    if keyword == "DROP" and (m := _NO_OBJECT.match(message)):
        return Verdict("applied", message, _unquote(m.group(1)))
    return verdict


def _verdict_of(message: str) -> Verdict:
    if m := _NO_TABLE.search(message):
        database, dot, _ = m.group(1).rpartition(".")
        if dot and _unquote(database).lower() != "temp":
            # A table of an attached database: that file is not the schema checked here.
            return Verdict("ok", f"not judged: {message} (an attached database)")
        return Verdict("no_table", message, _unquote(m.group(1)))
    if m := _NO_COLUMN.search(message):
        qualifier, _, name = m.group(1).rpartition(".")
        return Verdict("no_column", message, _unquote(name), _unquote(qualifier) or None)
    if m := _HAS_NO_COLUMN.search(message):
        return Verdict("no_column", message, _unquote(m.group(2)), _unquote(m.group(1)))
    if m := _NEAR.search(message):
        return Verdict("syntax", message, m.group(1).replace('""', '"'))
    if (
        "syntax error" in message
        or "incomplete input" in message
        or "unrecognized token" in message
    ):
        return Verdict("syntax", message)
    if m := _AMBIGUOUS.search(message):
        qualifier, _, name = m.group(1).rpartition(".")
        return Verdict("error", message, _unquote(name), _unquote(qualifier) or None)
    if any(text in message for text in _RUNTIME_DEPENDENT):
        return Verdict("ok", message)
    return Verdict("error", message)


def _unquote(name: str) -> str:
    return name.strip("\"'`[]")


def query_plan(oracle: Sandbox, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
    """Return the detail lines of EXPLAIN QUERY PLAN for `text`, or [] if it cannot run."""
    params: Any
    if placeholders and all(p.name for p in placeholders):
        params = {p.name: None for p in placeholders if p.name}
    else:
        count = max((p.position or 0) + 1 for p in placeholders) if placeholders else 0
        params = [None] * max(count, len(placeholders))
    try:
        rows = oracle.query("EXPLAIN QUERY PLAN " + text, params)
    except sqlite3.Error:
        return []
    return [str(row[3]) for row in rows]


def plan_with_index(
    oracle: Sandbox,
    text: str,
    placeholders: tuple[Placeholder, ...],
    table: str,
    columns: tuple[str, ...],
    name: str,
) -> tuple[str, ...]:
    """Return the plan of `text` once index `name` on `table(columns)` exists in the copy
    (created in a savepoint and rolled back), or () if it cannot be built."""
    quoted = ", ".join(_quoted(c) for c in columns)
    with undone(oracle, "dbheal_index"):
        try:
            oracle.run(f"CREATE INDEX {_quoted(name)} ON {_quoted(table)} ({quoted})")
        except (sqlite3.Error, Refused, BudgetExceeded):
            return ()
        return tuple(query_plan(oracle, text, placeholders))


@contextmanager
def undone(oracle: Sandbox, savepoint: str) -> Iterator[None]:
    """Run the block's changes to the schema copy `oracle` inside `savepoint`, then undo them."""
    oracle.run(f"SAVEPOINT {savepoint}")
    try:
        yield
    finally:
        # An interrupted statement may have rolled the whole transaction back already.
        if oracle.in_transaction:
            oracle.run(f"ROLLBACK TO {savepoint}")
            oracle.run(f"RELEASE {savepoint}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteJudge:
    """The seam's `Judge` over a sandbox holding a copy of one schema (see module docstring)."""

    dialect = "sqlite"
    engine = "SQLite"

    def __init__(self, box: Sandbox) -> None:
        self.box = box

    def verdict(self, text: str) -> Verdict:
        """Return SQLite's verdict on preparing `text` against the copy."""
        return prepare(self.box, text)

    def plan(self, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
        """Return the detail lines of EXPLAIN QUERY PLAN for `text`, or []."""
        return query_plan(self.box, text, placeholders)

    def plan_with_index(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        table: str,
        columns: tuple[str, ...],
        name: str,
    ) -> tuple[str, ...]:
        """Return the plan of `text` with index `name` on `table(columns)`, or ()."""
        return plan_with_index(self.box, text, placeholders, table, columns, name)

    def run(self, sql: str) -> Ran:
        """Run one DDL statement on the copy, under the sandbox's authorizer and budget."""
        try:
            self.box.run(sql)
        except BudgetExceeded as exc:
            return Ran("over_budget", exc.message)
        except Refused as exc:
            return Ran("refused", exc.message)
        except sqlite3.Error as exc:
            return Ran("failed", str(exc))
        return Ran("ran")

    def undone(self, name: str) -> AbstractContextManager[None]:
        """Return a block run inside savepoint `name`, rolled back when it ends."""
        return undone(self.box, name)

    @property
    def in_transaction(self) -> bool:
        """Whether the savepoint of an `undone` block still holds its changes."""
        return self.box.in_transaction

    def schema(self, source: str) -> Schema:
        """Return the schema of the copy as it stands now."""
        return schema_from_connection(self.box, source)

    def has_objects(self) -> bool:
        """Return whether the copy has a table, view, index or trigger (one row read)."""
        row = self.box.execute(
            "SELECT 1 FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1"
        ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the copy."""
        self.box.close()


def open_judge(schema: Schema, *, check_same_thread: bool = True) -> SqliteJudge:
    """Return a judge over a new copy of `schema` (`oracle_connection`); the caller closes it."""
    return SqliteJudge(oracle_connection(schema, check_same_thread=check_same_thread))

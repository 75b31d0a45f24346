"""SQLite's view of one statement, and the Facts every rule reads.

SQLite is the oracle: a statement is prepared against an in-memory copy of the schema (a
sandbox, `databases/sqlite/sandbox.py`) and its error message read back as a `Verdict`; EXPLAIN QUERY
PLAN says how it would be run. `Facts` holds that, with sqlglot's view of what the statement
refers to, for the rules (`dbheal_lsp/rules/`) to turn into issues.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.sqlrefs import References
from dbheal_lsp.analysis.statement import Rendered, SlotRange, Statement
from dbheal_lsp.databases.sqlite.sandbox import BudgetExceeded, Refused, Sandbox, first_keyword
from dbheal_lsp.model import IssueType

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import CheckSettings
    from dbheal_lsp.analysis.drift import Drift

# "foreign": SQLite rejects it, but it is valid in the project's own dialect.
# "applied": DDL the schema already reflects (the table exists, the column was added, the index
# was dropped): upgrade code that has run before, not a defect.
VerdictKind = Literal["ok", "no_table", "no_column", "syntax", "error", "foreign", "applied"]

_NO_TABLE = re.compile(r"no such table: (?:main\.)?(\S+)")
_NO_COLUMN = re.compile(r"no such column: (\S+)")
_HAS_NO_COLUMN = re.compile(r"table (\S+) has no column named (\S+)")
_NEAR = re.compile(r'near "((?:[^"]|"")*)": syntax error')
_AMBIGUOUS = re.compile(r"ambiguous column name: (\S+)")
_STAND_IN_NUMBER = re.compile(r"__dbheal_(\d+)")
# SQLite's words for DDL whose change the schema already has.
_EXISTS = re.compile(r"^(?:table|index|view|trigger) (\S+) already exists")
_DUPLICATE_COLUMN = re.compile(r"^duplicate column name: (\S+)")
_NO_OBJECT = re.compile(r"^no such (?:table|index|view|trigger): (\S+)")
DEFINED_TWICE = " is defined twice"  # a CREATE TABLE naming one column twice: broken on every run
# Errors that depend on what the application registers at run time, not on the schema.
_RUNTIME_DEPENDENT = ("no such function", "no such module", "no such collation", "unknown database")


@dataclass(frozen=True)
class Verdict:
    """SQLite's answer to preparing one statement against the schema."""

    kind: VerdictKind
    message: str = ""
    name: str | None = None
    qualifier: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything known about one SQL statement, computed once for all the checks."""

    statement: Statement
    path: str
    rendered: Rendered
    verdict: Verdict
    refs: References | None
    placeholders: tuple[Placeholder, ...]
    schema: Schema
    expected: Schema | None
    drift: Drift
    has_schema: bool
    settings: CheckSettings
    plan: tuple[str, ...] = ()  # EXPLAIN QUERY PLAN detail lines, when the statement filters
    # A piece of unknown SQL stands where tables are named (`FROM t %s`): it may join tables
    # and name aliases, so whether a column exists cannot be decided.
    columns_undecidable: bool = False
    # The plan the statement would get with one more index: (table, columns, name) -> plan.
    plan_with_index: Callable[[str, tuple[str, ...], str], tuple[str, ...]] | None = None

    @cached_property
    def sql(self) -> str:
        """The statement's SQL as issues carry it (one string shared by all its issues)."""
        return self.rendered.text.strip()

    @cached_property
    def _fingerprint_heads(self) -> dict[IssueType, Any]:
        # A statement can have thousands of issues (one per interpolated value): the part of
        # the fingerprint they share, the whole normalised SQL, is hashed once per issue type.
        return {}

    def fingerprint(self, kind: IssueType, token: str, table: object, column: object) -> str:
        """Return the fingerprint of an issue of `kind` at `token` of this statement: stable
        across edits elsewhere in the file (kind, path, function, normalised SQL, token, names)."""
        head = self._fingerprint_heads.get(kind)
        if head is None:
            text = " ".join(self.rendered.text.split())
            prefix = "|".join([kind.value, self.path, self.statement.function, text]) + "|"
            head = hashlib.sha1(prefix.encode("utf-8", "surrogatepass"))
            self._fingerprint_heads[kind] = head
        digest = head.copy()
        digest.update("|".join([token, str(table), str(column)]).encode("utf-8", "surrogatepass"))
        return str(digest.hexdigest()[:16])


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


def stand_in_index(token: str | None) -> int | None:
    """Return the slot number of a stand-in SQLite names in its message, if it is one."""
    m = _STAND_IN_NUMBER.search(token or "")
    return int(m.group(1)) if m else None


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


def parse(text: str, dialect: str = "sqlite") -> Any:
    """Return sqlglot's tree of `text` in `dialect`, or None when it cannot read it."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(text, read=dialect)
    except (SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError):
        return None


def split_script(rendered: Rendered) -> list[Rendered]:
    """Split an executescript() text into its statements, each still mapped to the file."""
    text = rendered.text
    mask = masked(text)
    parts: list[Rendered] = []
    start = 0
    for m in re.finditer(";", mask):
        chunk = text[start : m.end()]
        if not sqlite3.complete_statement(chunk):
            continue  # a trigger body: BEGIN ... END has semicolons inside
        parts.append(_slice(rendered, start, m.end()))
        start = m.end()
    if text[start:].strip():
        parts.append(_slice(rendered, start, len(text)))
    return [p for p in parts if masked(p.text).strip(" \n\t;")]


def _slice(rendered: Rendered, start: int, end: int) -> Rendered:
    slots = tuple(
        SlotRange(s.slot, s.start - start, s.end - start, s.role)
        for s in rendered.slots
        if start <= s.start < end
    )
    return Rendered(rendered.text[start:end], rendered.positions[start : end + 1], slots)

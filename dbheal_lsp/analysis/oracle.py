"""The database's view of one statement, and the Facts every rule reads.

The database is the oracle: its back end's `Judge` (databases/database.py; for SQLite,
databases/sqlite/judge.py) prepares a statement against a scratch copy of the schema and reads
its answer back as a `Verdict`; the query plan says how it would be run. `Facts` holds that,
with sqlglot's view of what the statement refers to, for the rules (`dbheal_lsp/rules/`) to
turn into issues.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.sqlrefs import References
from dbheal_lsp.analysis.statement import Rendered, SlotRange, Statement
from dbheal_lsp.databases import complete_statement
from dbheal_lsp.model import IssueType

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import CheckSettings
    from dbheal_lsp.analysis.drift import Drift

# "foreign": SQLite rejects it, but it is valid in the project's own dialect.
# "applied": DDL the schema already reflects (the table exists, the column was added, the index
# was dropped): upgrade code that has run before, not a defect.
# "type": the database rejects the types a value meets (a PostgreSQL server: `text = integer`,
# 'abc' for an integer); SQLite, whose affinity converts, never says so.
VerdictKind = Literal[
    "ok", "no_table", "no_column", "syntax", "error", "foreign", "applied", "type"
]

_STAND_IN_NUMBER = re.compile(r"__dbheal_(\d+)")
DEFINED_TWICE = " is defined twice"  # a CREATE TABLE naming one column twice: broken on every run


@dataclass(frozen=True)
class Verdict:
    """The database's answer to preparing one statement against the schema."""

    kind: VerdictKind
    message: str = ""
    name: str | None = None
    qualifier: str | None = None
    # Where in the judged text the database places the error (0-based), when it says.
    offset: int | None = None


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
    judged_by: str = "SQLite"  # the database that gave the verdict, as a message names it

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


def stand_in_index(token: str | None) -> int | None:
    """Return the slot number of a stand-in SQLite names in its message, if it is one."""
    m = _STAND_IN_NUMBER.search(token or "")
    return int(m.group(1)) if m else None


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
        if not complete_statement(chunk):
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

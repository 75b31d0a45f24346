"""The database seam: what every back end raises and gives, whatever its driver.

The engine reaches a database only through these protocols and values:

- `Database`: one project's database back end: the live schema and the cheap key that changes
  with it, the schema the migrations define (replayed in a sandbox), the schema DDL found in
  code builds, a `Judge` for any schema, the live database's integrity, and the test deciding
  where a statement of a script ends;
- `Judge`: a scratch copy of one schema that statements are judged against (never the live
  database): a `Verdict` per statement, the query plan, the plan with one more index, and a
  script's DDL run on the copy and undone;
- `SchemaError` (the database cannot be read) and the seam package's `DatabaseError` (every
  back end's driver errors), so code above the seam catches them without importing a driver.

The values a judge answers with (`Verdict`) and the schema model (`Schema`) are the engine's
(analysis/oracle.py, analysis/schema.py): the rules read them whatever the back end.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.oracle import Verdict
    from dbheal_lsp.analysis.placeholders import Placeholder
    from dbheal_lsp.analysis.schema import Schema
    from dbheal_lsp.model import Origin

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "Database",
    "ForeignKeyViolation",
    "Integrity",
    "Judge",
    "Ran",
    "SchemaError",
]

#: Seconds a read waits for another connection's lock before it gives up.
DEFAULT_BUSY_TIMEOUT = 2.0


class SchemaError(Exception):
    """The database cannot be read (missing, not a database, corrupt, locked, unreachable);
    `message` is one line meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Ran:
    """What running one DDL statement on a judge's schema copy did.

    "ran": the copy now has its change; "failed": the database rejected it (nothing changed);
    "refused": the judge never runs such a statement (ATTACH, a PRAGMA write); "over_budget": it
    ran past the judge's limits (time, size), `message` says which, for the user.
    """

    kind: Literal["ran", "failed", "refused", "over_budget"]
    message: str = ""


@dataclass(frozen=True)
class ForeignKeyViolation:
    """A row whose foreign key points at no parent row (SQLite: `PRAGMA foreign_key_check`)."""

    table: str
    rowid: int | None  # None for a WITHOUT ROWID table
    parent: str
    fkid: int  # the foreign key's id, as in `PRAGMA foreign_key_list(table)`

    def __str__(self) -> str:
        row = f"rowid {self.rowid}" if self.rowid is not None else "a row"
        return f"{self.table} {row} refers to a missing {self.parent} row"


@dataclass(frozen=True)
class Integrity:
    """The live database's integrity check: its problem lines (("ok",) when none), the first
    foreign-key violations and how many there are in all."""

    lines: tuple[str, ...]
    violations: tuple[ForeignKeyViolation, ...]
    violation_count: int


class Judge(Protocol):
    """A scratch copy of one schema that statements are prepared against; the caller closes it.

    Statements are only prepared on it, never run, except the DDL a script or a function runs
    before its later statements (`run`, inside `undone`), so those see the tables it creates.
    """

    @property
    def dialect(self) -> str:
        """The SQL dialect the judge's database speaks ("sqlite", "postgres"): a statement in
        the code's dialect that it rejects is not read again by sqlglot."""
        ...

    @property
    def engine(self) -> str:
        """The database's name as messages give it ("SQLite", "PostgreSQL"): who rejects a
        statement, whose planner an index would serve."""
        ...

    def verdict(self, text: str) -> Verdict:
        """Return the database's verdict on preparing `text` against the schema copy."""
        ...

    def plan(self, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
        """Return the query plan's detail lines for `text`, or [] if it cannot be planned."""
        ...

    def plan_with_index(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        table: str,
        columns: tuple[str, ...],
        name: str,
    ) -> tuple[str, ...]:
        """Return the plan of `text` once index `name` on `table(columns)` exists (made and
        undone on the copy), or () if it cannot be built: would that index serve the filter."""
        ...

    def run(self, sql: str) -> Ran:
        """Run one DDL statement on the copy (call it inside `undone`)."""
        ...

    def undone(self, name: str) -> AbstractContextManager[None]:
        """Return a block whose changes to the copy are undone when it ends."""
        ...

    @property
    def in_transaction(self) -> bool:
        """Whether an `undone` block still holds its changes (a runaway statement may have
        rolled them back already: DDL run after that would be kept for good)."""
        ...

    def schema(self, source: str) -> Schema:
        """Return the schema of the copy as it stands now (after DDL `run` on it)."""
        ...

    def has_objects(self) -> bool:
        """Return whether the copy has a table, view, index or trigger (cheap: one row read)."""
        ...

    def close(self) -> None:
        """Free the copy."""
        ...


class Database(Protocol):
    """One project's database back end (`databases/__init__.py`'s `open_database` makes it)."""

    @property
    def has_live(self) -> bool:
        """Whether the project names a live database."""
        ...

    def live_schema(self) -> Schema:
        """Return the live database's schema (source "database"); raise SchemaError when it
        cannot be read. Cheap when nothing changed: it is called before every check."""
        ...

    def live_key(self) -> str | None:
        """Return a digest of the live schema's content, read without building the schema
        ("" without a live database); None when it cannot be read so."""
        ...

    def schema_counter(self, *, busy_timeout: float) -> int:
        """Return the live database's schema counter (it changes with every schema change),
        read on a connection of its own, waiting at most `busy_timeout` seconds for a lock;
        raise SchemaError or `DatabaseError` when it cannot be read."""
        ...

    def integrity(self, *, full: bool, busy_timeout: float, max_rows: int) -> Integrity:
        """Check the live database read-only (a full check reads every index too); raise
        SchemaError when it cannot be opened, `DatabaseError` when the check fails."""
        ...

    def migrations(self, folder: Path) -> MigrationResult:
        """Return the schema the migrations in `folder` define, replayed in a sandbox
        (again only when one of its files changed)."""
        ...

    def schema_from_ddl(self, statements: Sequence[tuple[str, Origin]]) -> Schema:
        """Return the schema (source "code") that DDL found in code builds."""
        ...

    def judge(self, schema: Schema) -> Judge:
        """Return a new judge over a copy of `schema` (usable from any thread)."""
        ...

    def write_lock_free(self, *, wait: float) -> bool:
        """Take and release the live database's write lock (changing nothing), waiting up to
        `wait` seconds: False when another connection holds it that long. Raise SchemaError
        when it cannot be opened, `DatabaseError` when it refuses (corrupt, read-only). The
        preflight of a command that changes the database (cli/preflight.py) asks it."""
        ...

    def other(self, path: Path) -> Database:
        """Return the back end of another database file of the project (issue 11)."""
        ...

    def close(self) -> None:
        """Close the connections to the live database."""
        ...

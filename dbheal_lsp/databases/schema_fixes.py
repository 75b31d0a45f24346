"""The database seam's fix half: what a back end gives the fix engine and the one executor.

`fixes/` plans, runs and undoes schema fixes through a `SchemaFixes` back end and never
imports a driver: the back end makes the plans for an issue, opens the database for writing
(`FixTransaction`: the lock timeout, ``BEGIN IMMEDIATE``, the schema version, commit or
rollback), runs the checks a plan's result must pass inside that transaction (integrity,
foreign keys, the plan's queries, a new index, the copy of a rebuilt table and its lossy
values), makes an empty copy of the schema for the dry run, takes and restores backups,
fingerprints a database for the rollback's "changed since?" and plans the inverse of a fix.
`fixes/apply.py` owns what is the same for every back end: the order of the steps, the
refusals, the lossy policy and what is recorded. The values they exchange are the neutral
ones of `dbheal_lsp.model` (MigrationPlan, VerifyCheck, LossyReport) and the two below.
A back end raises its driver's errors (`dbheal_lsp.databases.DatabaseError` catches them),
`SchemaError` for a database it cannot read, and ValueError for a change it cannot make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyCheck, VerifyReport

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema
    from dbheal_lsp.config import Config
    from dbheal_lsp.databases.database import Judge
    from dbheal_lsp.model import Issue

__all__ = [
    "ON_LOSSY",
    "Connection",
    "CopyComparison",
    "FixTransaction",
    "InverseFix",
    "InverseRefused",
    "JudgingTransaction",
    "NoInverse",
    "RewrittenValues",
    "SchemaFixes",
    "Undo",
    "fix_database",
    "schema_fixes_for",
    "suggested_index_columns",
]

#: What to do with values that do not convert losslessly, in the order people are offered them:
#: refuse to apply (the default), store NULL instead, keep them as the new column stores them,
#: or abort (a synonym of refuse).
ON_LOSSY = ("refuse", "null", "keep", "abort")


@dataclass(frozen=True)
class CopyComparison:
    """What comparing a table with its rebuilt copy found (`FixTransaction.compare_copy`)."""

    report: VerifyReport
    rows: int  # rows of the old table
    lossy_count: int  # values of the converted column that do not convert losslessly


@dataclass(frozen=True)
class RewrittenValues:
    """Lossy values that the copy did not keep as they were (`rewritten_values`)."""

    count: int
    lossy: int  # lossy values in all
    examples: tuple[str, ...]  # "id 3: '007' would become 7 (integer)", in key order


class NoInverse(Exception):
    """The fix changed something dbheal cannot undo by an inverse change; the message says
    which step."""


class InverseRefused(Exception):
    """Undoing the fix would delete or change data written since; the message says which."""


@dataclass(frozen=True)
class Undo:
    """One thing a fix made that its inverse removes: a table, index, trigger, view or column
    (`kind`), or a column's declared type ("type", with the old type in `old_type`)."""

    kind: str
    name: str  # the object's name; for "column" and "type" the column's name
    table: str = ""  # for "column" and "type": the table
    old_type: str = ""

    @property
    def label(self) -> str:
        """The thing in words: "index idx_x", "column orders.note"."""
        if self.kind in ("column", "type"):
            return f"column {self.table}.{self.name}"
        return f"{self.kind} {self.name}"


class InverseFix(Protocol):
    """The inverse of a recorded fix: the plan that undoes it, what it removes, and the check
    that proves it inside the plan's transaction (the executor's `extra_check`)."""

    @property
    def plan(self) -> MigrationPlan:
        """The plan that undoes the fix."""

    @property
    def undoes(self) -> tuple[Undo, ...]:
        """What the plan removes (or puts back), in order."""

    def check(self, transaction: FixTransaction) -> VerifyReport:
        """Whether everything the fix made is gone (or its type is back)."""


class Connection(Protocol):
    """What a plan's steps run on (`fixes.apply.run_steps`): a back end's transaction, or the
    runtime wrapper's own connection."""

    def execute(self, sql: str, /) -> object:
        """Run one statement."""


class FixTransaction(Connection, Protocol):
    """One schema fix's open connection to the database: the steps run in its transaction and
    every check reads it, so nothing is seen or committed before the checks pass."""

    def begin(self) -> int:
        """Begin the transaction (waiting for the write lock up to the lock timeout); return
        the schema version read inside it."""

    def schema_version(self) -> int:
        """The schema version now, as this transaction sees it."""

    def commit(self) -> None:
        """Commit the transaction (raises the driver's error when a reader keeps the lock)."""

    def rollback(self) -> None:
        """Roll the transaction back, if one is open."""

    def close(self) -> None:
        """Roll back whatever is still open, undo the connection's settings, close it."""

    def schema(self) -> Schema:
        """The schema as this transaction sees it (the re-analysis checks the code on it)."""

    # --- verification: each returns what it checked, for the report -------------------------

    def integrity(self, plan: MigrationPlan, full: bool) -> VerifyCheck:
        """The integrity of what the plan wrote (of the whole database when `full`)."""

    def foreign_keys(self, plan: MigrationPlan) -> VerifyCheck:
        """The foreign keys the plan can have broken."""

    def prepares(self, plan: MigrationPlan) -> list[VerifyCheck]:
        """Every query of the plan's `check_sql` prepares against the new schema."""

    def index_names(self) -> set[str]:
        """The names of the database's indexes, lower-cased."""

    def index_used(self, plan: MigrationPlan, before: set[str]) -> list[VerifyCheck]:
        """A create_index plan made an index (not in `before`) that its queries use."""

    # --- a type change: the rebuilt table's copy and its lossy values ----------------------

    def lossy_mode(self, plan: MigrationPlan) -> str:
        """What the plan's copy does with lossy values: "null", "keep" or "refuse"."""

    def lossy_report(self, plan: MigrationPlan) -> LossyReport:
        """The values of the plan's column that would not convert losslessly (ValueError for
        an unknown table or column)."""

    def compare_copy(self, plan: MigrationPlan) -> CopyComparison:
        """Compare the rebuilt table's copy with the table, row by row, counting lossy values."""

    def rewritten_values(self, plan: MigrationPlan, limit: int) -> RewrittenValues:
        """The lossy values the copy did not keep as they were (ValueError: no copy)."""

    def change_type_plan(self, plan: MigrationPlan, on_lossy: str) -> MigrationPlan:
        """The type change `plan` made again with another treatment of lossy values."""


@runtime_checkable
class JudgingTransaction(Protocol):
    """A fix's transaction on a server that judges statements itself (PostgreSQL): the
    re-analysis prepares the code's statements in it, where the change is seen before COMMIT
    (a judge of the project's would prepare them on the server as committed)."""

    def own_judge(self) -> Judge:
        """A judge preparing statements in this transaction; closing it leaves it open."""
        ...


class SchemaFixes(Protocol):
    """A database back end's schema fixes: plans, the executor's transaction, backups,
    fingerprints and inverses. `database` is where the database is (a file for SQLite, the
    file standing for the server in the project for PostgreSQL: `fix_database`)."""

    #: Whether the backup may be taken in a thread beside the fix's transaction (SQLite's
    #: online backup); PostgreSQL's copies tables whose lock the fix takes, so it runs first.
    backup_beside: bool
    #: Whether `restore` puts a backup back (SQLite's file); a rollback offers it only then.
    restores_backup: bool

    def shown(self, database: Path) -> str | None:
        """The database as people know it (a server's URL, without its password); None when
        its path is its name (a SQLite file)."""

    def plans_for(
        self,
        database: Path,
        issue: Issue,
        live: Schema,
        migrations: MigrationResult | None,
    ) -> tuple[MigrationPlan, ...]:
        """The schema fixes of `issue` (create, add column, index, type change), planned
        against the database now (ValueError: no plan can do it)."""

    def schema_version(self, database: Path) -> int:
        """The database's schema version now (SchemaError when it cannot be read)."""

    def lossy_report(self, database: Path, plan: MigrationPlan) -> LossyReport:
        """The values a type change `plan` would not convert losslessly, read now."""

    def write_problem(self, database: Path) -> str | None:
        """Why the database cannot be changed (missing, read-only), or None if it can."""

    def error_message(self, exc: Exception, database: Path) -> str:
        """One sentence saying why the driver's error `exc` stopped a fix."""

    def blocks(self, exc: Exception) -> bool:
        """Whether `exc` says the database is locked or read-only (not the step's fault)."""

    def open_for_fix(
        self, database: Path, *, lock_timeout: float, cache_kib: int, foreign_keys_off: bool
    ) -> FixTransaction:
        """Open the database for writing a fix (the transaction not yet begun)."""

    def schema_copy(self, database: Path, lock_timeout: float) -> tuple[FixTransaction, int]:
        """An empty in-memory copy of the database's schema for a dry run, and the schema
        version it was read at (SchemaError when the database cannot be read)."""

    def backup(
        self, database: Path, folder: Path, *, timeout: float = 5.0, tables: Sequence[str] = ()
    ) -> Path:
        """Back the database up into `folder`; return the copy. `tables` are the tables the
        fix changes (PostgreSQL copies those; SQLite copies the whole file)."""

    def restore(self, copy: Path, database: Path, *, timeout: float) -> None:
        """Put the backup `copy` back as the database."""

    # --- rollback: has the database changed since a fix, and how is the fix undone ----------

    def remember_after_fix(self, database: Path, folder: Path, *, timeout: float) -> None:
        """Store in the fix's backup `folder` a fingerprint of the database as the fix left it."""

    def stored_fingerprint(self, folder: Path) -> str | None:
        """The fingerprint `remember_after_fix` stored in `folder` (None: none was)."""

    def fingerprint(self, database: Path, *, timeout: float) -> str:
        """A fingerprint of the database now, which any committed write changes."""

    def losses(self, copy: Path, database: Path) -> tuple[str, str]:
        """What restoring the backup `copy` over the database would drop, in words, and the
        same said once done."""

    def summary(self, database: Path) -> dict[str, tuple[str, int]]:
        """The schema text and row count (-1: not a table) of each object of the database."""

    def inverse(
        self, database: Path, copy: Path, plans: Sequence[MigrationPlan], *, fix_id: str
    ) -> InverseFix:
        """The inverse of fix `fix_id`'s `plans`, planned against the database now; `copy`
        is its backup (it knows an old type). Raises InverseRefused or NoInverse."""


def schema_fixes_for(database: Path | None = None) -> SchemaFixes:
    """The back end of `database`: PostgreSQL for the file standing for a server
    (`fix_database`), else SQLite."""
    from dbheal_lsp.databases.postgres.fix_target import SUFFIX

    if database is not None and Path(database).suffix == SUFFIX:
        from dbheal_lsp.databases.postgres.schema_fixes import PostgresSchemaFixes

        return PostgresSchemaFixes()
    from dbheal_lsp.databases.sqlite.schema_fixes import SqliteSchemaFixes

    return SqliteSchemaFixes()


def fix_database(config: Config) -> Path | None:
    """The path the fix engine names the project's database by: the SQLite file, or for a
    PostgreSQL server a file in `.dbheal/postgres/` standing for it (its URL without the
    password), written when needed; None when no database is configured."""
    if config.database_url is not None:
        from dbheal_lsp.databases.postgres.fix_target import server_file

        return server_file(config.root, config.database_url)
    return config.database


def suggested_index_columns(issue: Issue, live: Schema) -> tuple[str, ...]:
    """Return the columns of the index idx_<table>_<cols> a MISSING_INDEX issue suggests, or ()
    when its name does not spell columns of the table."""
    table = live.table(issue.table or "")
    prefix = f"idx_{issue.table}_"
    suggestion = issue.suggestion or ""
    if table is None or not suggestion.startswith(prefix):
        return ()
    rest = suggestion[len(prefix) :]
    # Column names may contain "_" themselves: match the table's names, longest first.
    names = sorted(table.column_names, key=len, reverse=True)
    columns: list[str] = []
    while rest:
        match = next((n for n in names if rest.lower().startswith(n.lower())), None)
        if match is None:
            return ()
        columns.append(match)
        rest = rest[len(match) :].removeprefix("_")
    return tuple(columns)

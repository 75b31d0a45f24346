"""PostgreSQL's schema fixes: the `SchemaFixes` back end (`databases/schema_fixes.py`) of a
server, made of the modules beside it: the plans (fix_plans.py, type_change.py), the fix's
transaction (fix_transaction.py), backups and fingerprints (backup.py) and inverses
(inverse.py). `database` is the file standing for the server in the project (fix_target.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dbheal_lsp.backups import BackupError
from dbheal_lsp.database_url import redacted, scrubbed
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.postgres import PostgresError, backup
from dbheal_lsp.databases.postgres.fix_target import is_server_file, server_url
from dbheal_lsp.databases.postgres.fix_transaction import (
    STATEMENT_TIMEOUT,
    FixError,
    PostgresTransaction,
    catalog_version,
    current_schema,
)
from dbheal_lsp.files import FileRefused, atomic_write, read_regular_file
from dbheal_lsp.model import LossyReport, MigrationPlan

if TYPE_CHECKING:
    import psycopg

    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema
    from dbheal_lsp.databases.postgres.inverse import PostgresInverse
    from dbheal_lsp.model import Issue

__all__ = ["PostgresSchemaFixes"]

T = TypeVar("T")
#: SQLSTATEs that say the server would not let the fix run now: a lock timeout, a statement
#: timeout, a deadlock, a read-only transaction or server.
_BLOCKED = frozenset({"55P03", "57014", "40P01", "25006"})


class PostgresSchemaFixes:
    """The schema fixes of a PostgreSQL server (see the module docstring)."""

    #: The backup copies tables on the server: never beside the fix, whose lock it would wait for.
    backup_beside = False
    #: The backup holds copies of tables, not the server: `restore` refuses.
    restores_backup = False

    def shown(self, database: Path) -> str | None:
        """The server's URL without its password, as the file standing for it holds it."""
        return _label(database)

    def _read(self, database: Path, read: Callable[[psycopg.Connection[Any], str], T]) -> T:
        """`read(connection, schema)` on a connection of its own; the driver's errors become
        PostgresError (no password in them)."""
        import psycopg

        url = _url(database)
        try:
            conn = connect_url(url)
        except SchemaError as exc:
            raise PostgresError(exc.message) from None
        try:
            # A scan of a large table (the dry run, a backup's copy, a fingerprint) may take
            # longer than a catalog read: it still waits at most connect.py's lock_timeout.
            conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            return read(conn, current_schema(conn))
        except psycopg.Error as exc:
            raise PostgresError(f"{redacted(url)}: {scrubbed(str(exc), url)}") from None
        finally:
            conn.close()

    def plans_for(
        self,
        database: Path,
        issue: Issue,
        live: Schema,
        migrations: MigrationResult | None,
    ) -> tuple[MigrationPlan, ...]:
        """The schema fixes of `issue`, planned against the server now."""
        from dbheal_lsp.databases.postgres.fix_plans import plans_for

        return self._read(database, lambda c, s: plans_for(issue, c, s, live, migrations))

    def schema_version(self, database: Path) -> int:
        """The schema's version now (a digest of its catalog); SchemaError when unreadable."""
        try:
            return self._read(database, catalog_version)
        except PostgresError as exc:
            raise SchemaError(str(exc)) from None

    def lossy_report(self, database: Path, plan: MigrationPlan) -> LossyReport:
        """The values a type change would fail on or change, read now."""
        from dbheal_lsp.databases.postgres.type_change import lossy_report

        table, column, new_type = plan.table, plan.column or "", plan.new_type or ""
        return self._read(database, lambda c, s: lossy_report(c, s, table, column, new_type, 5))

    def write_problem(self, database: Path) -> str | None:
        """Why the server cannot be changed: its file unreadable (the server's own refusals
        come when the fix runs)."""
        try:
            _url(database)
        except PostgresError as exc:
            return str(exc)
        return None

    def error_message(self, exc: Exception, database: Path) -> str:
        """The server's error as a sentence: a lock held too long by another session, else
        the server's words."""
        label = _label(database)
        state = exc.sqlstate if isinstance(exc, FixError) else ""
        if state == "55P03":
            return (
                f"{label}: a table the fix changes is locked by another session, and the fix "
                f"stopped on lock_timeout ({exc}); nothing was changed: try again when it is "
                "done, or wait longer with --lock-timeout SECONDS"
            )
        if state == "57014":
            return f"{label}: the fix ran past its statement_timeout ({exc}); nothing was changed"
        return f"cannot change {label}: {exc}"

    def blocks(self, exc: Exception) -> bool:
        """Whether `exc` says a lock, a timeout or a read-only server stopped the fix."""
        return isinstance(exc, FixError) and exc.sqlstate in _BLOCKED

    def open_for_fix(
        self, database: Path, *, lock_timeout: float, cache_kib: int, foreign_keys_off: bool
    ) -> PostgresTransaction:
        """A connection for a fix (the transaction not yet begun)."""
        try:
            return PostgresTransaction(_url(database), lock_timeout=lock_timeout)
        except SchemaError as exc:
            raise PostgresError(exc.message) from None

    def schema_copy(self, database: Path, lock_timeout: float) -> tuple[PostgresTransaction, int]:
        """A dry run's transaction: on the server itself, always rolled back (DDL is
        transactional on PostgreSQL), and the schema version it begins at."""
        transaction = self.open_for_fix(
            database, lock_timeout=lock_timeout, cache_kib=0, foreign_keys_off=False
        )
        return transaction, catalog_version(transaction.conn, transaction.schema_name)

    def backup(
        self, database: Path, folder: Path, *, timeout: float = 5.0, tables: Sequence[str] = ()
    ) -> Path:
        """Copy `tables` into the server's backup schema; the manifest in `folder`."""
        url = _url(database)
        copy = Path(folder) / Path(database).name
        try:
            return self._read(database, lambda c, s: backup.take_backup(c, url, s, copy, tables))
        except PostgresError as exc:
            raise BackupError(str(exc)) from None

    def restore(self, copy: Path, database: Path, *, timeout: float) -> None:
        """A PostgreSQL backup is not put back by dbheal: raise BackupError naming the copies."""
        try:
            copies = backup.read_manifest(copy).get("copies", {})
        except ValueError as exc:
            raise BackupError(str(exc)) from None
        where = ", ".join(f"{t} in {c}" for t, c in sorted(copies.items())) or "no table copy"
        raise BackupError(
            f"dbheal does not restore a PostgreSQL backup over the server ({where}); "
            "put the rows back by hand"
        )

    def discard_backup(self, copy: Path, database: Path) -> None:
        """Drop the table copies the backup manifest `copy` lists, before `fixes/prune.py`
        deletes its folder; raise BackupError when the server cannot be reached (the folder is
        then kept, and pruned on a later run). A file that is no manifest of dbheal's names
        nothing of ours on the server: nothing to drop."""
        try:
            copies = backup.read_manifest(copy).get("copies", {})
        except ValueError:
            return
        names = [str(c) for c in copies.values()] if isinstance(copies, dict) else []
        if not names:
            return
        try:
            self._read(database, lambda c, _: backup.drop_copies(c, names))
        except PostgresError as exc:
            raise BackupError(str(exc)) from None

    def remember_after_fix(self, database: Path, folder: Path, *, timeout: float) -> None:
        """The server's fingerprint as the fix left it, stored in `folder`."""
        found = self._read(database, backup.fingerprint)
        atomic_write(Path(folder) / backup.FINGERPRINT_FILE, (found + "\n").encode(), mode=0o644)

    def stored_fingerprint(self, folder: Path) -> str | None:
        """The fingerprint stored in the fix's backup `folder`."""
        try:
            data = read_regular_file(Path(folder) / backup.FINGERPRINT_FILE, max_bytes=4096)
        except (OSError, FileRefused):
            return None
        return data.decode("utf-8", "replace").strip()

    def fingerprint(self, database: Path, *, timeout: float) -> str:
        """A digest of the schema, and of each table's row count and newest row version."""
        return self._read(database, backup.fingerprint)

    def losses(self, copy: Path, database: Path) -> tuple[str, str]:
        """What putting the backup back would drop: rows written since, by table."""
        try:
            before = backup.manifest_summary(copy)
        except ValueError as exc:
            raise PostgresError(str(exc)) from None
        now = self.summary(database)
        return (
            backup.describe_losses(before, now),
            backup.describe_losses(before, now, done=True),
        )

    def summary(self, database: Path) -> dict[str, tuple[str, int]]:
        """Each table's columns and row count: of the server, or stored in a backup."""
        if not is_server_file(database):
            try:
                return backup.manifest_summary(database)
            except ValueError as exc:
                raise PostgresError(str(exc)) from None
        return self._read(database, backup.summary)

    def inverse(
        self, database: Path, copy: Path, plans: Sequence[MigrationPlan], *, fix_id: str
    ) -> PostgresInverse:
        """The inverse of the fix, planned against the server now and its backup manifest."""
        from dbheal_lsp.databases.postgres.inverse import inverse_plan

        return self._read(
            database, lambda c, s: inverse_plan(c, s, plans, fix_id=fix_id, backup=copy)
        )


def connect_url(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to `url` (connect.py; SchemaError when unreachable)."""
    from dbheal_lsp.databases.postgres.connect import connect

    return connect(url)


def _url(database: Path) -> str:
    try:
        return server_url(database)
    except ValueError as exc:
        raise PostgresError(str(exc)) from None


def _label(database: Path) -> str:
    try:
        return redacted(server_url(database))
    except ValueError:
        return str(database)

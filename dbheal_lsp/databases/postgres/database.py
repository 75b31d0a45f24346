"""`PostgresDatabase`: the seam's `Database` (databases/database.py) for a PostgreSQL server.

The live schema is read from the server's catalog (catalog.py), the migrations replayed on it in
a transaction that is rolled back (replay.py), and statements judged by preparing them on it
(judge.py). While the server cannot be reached and the project has migrations, it answers as
`OfflinePostgresDatabase` does (offline.py: pglast and the migrations), and tries the server
again a minute later. The URL is kept for connecting only: what the user sees names it without its
password (`database_url.redacted`). The integrity check (every foreign key holds, no index is
invalid) and the locks other sessions hold are read by preflight.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.database_url import redacted, scrubbed
from dbheal_lsp.databases.database import Integrity, SchemaError
from dbheal_lsp.databases.postgres.catalog import schema_from_catalog
from dbheal_lsp.databases.postgres.connect import connect
from dbheal_lsp.databases.postgres.judge import PostgresJudge
from dbheal_lsp.databases.postgres.offline import OfflinePostgresDatabase, pglast_available
from dbheal_lsp.databases.postgres.offline_judge import OfflineJudge
from dbheal_lsp.databases.postgres.preflight import LockHolder, check_integrity, lock_holders
from dbheal_lsp.databases.postgres.replay import replay_migrations, replay_statements
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    import psycopg

    from dbheal_lsp.databases.database import Database

__all__ = ["PostgresDatabase"]

#: How long one foreign key's query for orphan rows may run in the integrity check.
INTEGRITY_STATEMENT_TIMEOUT = 30.0
#: Seconds between two looks at the locks other sessions hold, while waiting for them to go.
_LOCK_POLL = 0.1
#: Seconds before a server found unreachable is tried again.
RETRY_AFTER = 60.0


class PostgresDatabase:
    """A project's PostgreSQL server (named by `url`) and its analysis services; safe to share
    between threads (one lock guards the connection the schema is read on)."""

    def __init__(self, url: str, *, migrations_root: Path | None = None) -> None:
        self.url = url
        self.label = redacted(url)
        self.migrations_root = migrations_root
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        # While the server cannot be reached (and the migrations give the schema): pglast's
        # answers, and when to try the server again.
        self._offline: OfflinePostgresDatabase | None = None
        self._retry_at = 0.0

    @property
    def has_live(self) -> bool:
        """A reachable server is a live database (see `offline`)."""
        return self._offline is None

    @property
    def offline(self) -> bool:
        """Whether the server could not be reached and pglast answers instead."""
        return self._offline is not None

    def _reachable(self) -> bool:
        """Return whether the server can be reached now; when it cannot and pglast is there,
        answer offline until `RETRY_AFTER` seconds have passed."""
        if self._offline is not None and time.monotonic() < self._retry_at:
            return False
        try:
            with self._lock:
                self._connection()
        except SchemaError:
            if not pglast_available():
                raise
            self._offline = OfflinePostgresDatabase(migrations_root=self.migrations_root)
            self._retry_at = time.monotonic() + RETRY_AFTER
            return False
        self._offline = None
        return True

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url)
        return self._conn

    def _read(self, read: Any) -> Any:
        """Return `read(connection)` under the lock; the driver's errors become SchemaError."""
        import psycopg

        with self._lock:
            try:
                return read(self._connection())
            except psycopg.Error as exc:
                self._drop()
                raise SchemaError(f"{self.label}: {scrubbed(str(exc), self.url)}") from None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def live_schema(self) -> Schema:
        """Return the live schema (the schema first on the server's search_path)."""
        schema: Schema = self._read(
            lambda conn: schema_from_catalog(conn, _current_schema(conn), "database")
        )
        return schema

    def live_key(self) -> str | None:
        """Return the live schema's version (a digest of its catalog), None when unreadable."""
        try:
            return self.live_schema().version
        except SchemaError:
            return None

    def schema_counter(self, *, busy_timeout: float) -> int:
        """Return a number that changes with every schema change (from the catalog's digest)."""
        return int(self.live_schema().version, 16)

    def integrity(self, *, full: bool, busy_timeout: float, max_rows: int) -> Integrity:
        """Check that every foreign key holds (a query per key for its orphan rows, each
        stopped after `INTEGRITY_STATEMENT_TIMEOUT`, the first `max_rows` returned) and that no
        index is invalid, in a read-only transaction that is rolled back. `full` changes
        nothing: the server checks its own pages (there is no quick check to go beyond)."""
        integrity: Integrity = self._read(
            lambda conn: check_integrity(
                conn,
                _current_schema(conn),
                max_rows=max_rows,
                lock_timeout=busy_timeout,
                statement_timeout=INTEGRITY_STATEMENT_TIMEOUT,
            )
        )
        return integrity

    def migrations(self, folder: Path) -> MigrationResult:
        """Return the schema the migrations of `folder` build, replayed and rolled back (read
        by pglast while the server cannot be reached)."""
        if not self._reachable() and self._offline is not None:
            return self._offline.migrations(folder)
        result: MigrationResult = self._read(
            lambda conn: replay_migrations(conn, folder, self.migrations_root)
        )
        return result

    def schema_from_ddl(self, statements: Sequence[tuple[str, Origin]]) -> Schema:
        """Return the schema (source "code") that DDL found in code builds on the server."""
        if self._offline is not None:
            return self._offline.schema_from_ddl(statements)
        result: MigrationResult = self._read(
            lambda conn: replay_statements(conn, statements, "code")
        )
        return result.schema

    def judge(self, schema: Schema) -> PostgresJudge | OfflineJudge:
        """Return a judge on a connection of its own to the live server (pglast's over
        `schema` while the server cannot be reached).

        Statements are prepared on the live schema whatever `schema` is: the server is the
        copy (see docs/postgres.md)."""
        if self._offline is not None:
            return self._offline.judge(schema)
        conn = connect(self.url)
        return PostgresJudge(conn, _current_schema(conn))

    def write_lock_free(self, *, wait: float, tables: Sequence[str] | None = None) -> bool:
        """Return whether no other session holds a lock on a table of the schema (of `tables`
        only, when given), looking again until `wait` seconds have passed."""
        deadline = time.monotonic() + wait
        while self.lock_holders(tables):
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(_LOCK_POLL, max(0.0, deadline - time.monotonic())))
        return True

    def lock_holders(self, tables: Sequence[str] | None = None) -> list[LockHolder]:
        """Return the locks other sessions hold on the schema's tables (`tables` only, when
        given): what a fix changing them would wait for."""
        held: list[LockHolder] = self._read(
            lambda conn: lock_holders(conn, _current_schema(conn), tables)
        )
        return held

    def other(self, path: Path) -> Database:
        """Return the back end of another database file of the project (a SQLite file)."""
        from dbheal_lsp.databases import open_database_file

        return open_database_file(path)

    def close(self) -> None:
        """Close the connection the schema is read on."""
        with self._lock:
            self._drop()


def _current_schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"

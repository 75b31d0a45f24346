"""The PostgreSQL judge: statements prepared on the server, never executed.

A verdict is a protocol-level prepare of the unnamed statement (libpq's `PQprepare`, then
`PQdescribePrepared` for the parameter types): the server parses, resolves every name and type
and answers, and executes nothing. The unnamed statement is replaced by an empty one at once,
so no statement or lock is left behind. Inside an `undone` block (a script's DDL run first) each
prepare is wrapped in a savepoint, since a failed one aborts the transaction.

The judge's connection is the live server's (`search_path` chooses the schema: the live one, or
the fresh schema the migrations were replayed into). DDL is run only inside `undone`, only
the kinds that create new objects (a CREATE TABLE or VIEW takes no lock on the application's
tables), and under a lock and statement timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.oracle import Verdict
from dbheal_lsp.analysis.placeholders import Placeholder
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.database import Ran
from dbheal_lsp.databases.postgres.catalog import schema_from_catalog
from dbheal_lsp.databases.postgres.explain import query_plan
from dbheal_lsp.databases.postgres.params import dollar_text
from dbheal_lsp.databases.postgres.verdicts import verdict_of

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresJudge"]

# DDL a script may run on the judge's connection: it makes new objects, locking nothing else.
_NEW_OBJECTS = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?"
    r"(?:TABLE|VIEW|TYPE|SEQUENCE)\b",
    re.IGNORECASE,
)


_LOCK_NOT_AVAILABLE = "55P03"
_SHORT_LOCK_WAIT = b"SET lock_timeout = '20ms'"


class PostgresJudge:
    """The seam's `Judge` on a PostgreSQL connection (see module docstring); `schema_name` is
    the schema its statements resolve names in."""

    dialect = "postgres"
    engine = "PostgreSQL"

    def __init__(self, conn: psycopg.Connection[Any], schema_name: str = "public") -> None:
        self.conn = conn
        self.schema_name = schema_name

    def verdict(self, text: str) -> Verdict:
        """Return the server's verdict on preparing `text` (nothing is executed)."""
        from psycopg import pq

        if not text.strip():
            return Verdict("ok")
        sent = dollar_text(text)
        pgconn = self.conn.pgconn
        guarded = self.in_transaction
        if guarded:
            pgconn.exec_(b"SAVEPOINT dbheal_verdict")
        result = pgconn.prepare(b"", sent.text.encode("utf-8", "replace"))
        if result.status == pq.ExecStatus.FATAL_ERROR:
            field = pq.DiagnosticField
            sqlstate = (result.error_field(field.SQLSTATE) or b"").decode()
            message = (result.error_field(field.MESSAGE_PRIMARY) or b"").decode("utf-8", "replace")
            position = result.error_field(field.STATEMENT_POSITION)
            verdict = verdict_of(sqlstate, message, int(position) if position else None, sent)
            if sqlstate == _LOCK_NOT_AVAILABLE and not guarded:
                # A migration holds a table: the statements after this one would each wait
                # out the whole lock_timeout too. They are not judged rather than slow.
                pgconn.exec_(_SHORT_LOCK_WAIT)
        else:
            pgconn.describe_prepared(b"")
            verdict = Verdict("ok")
        # The unnamed statement is replaced by an empty one: nothing is left prepared.
        pgconn.prepare(b"", b"")
        if guarded:
            pgconn.exec_(b"ROLLBACK TO SAVEPOINT dbheal_verdict")
            pgconn.exec_(b"RELEASE SAVEPOINT dbheal_verdict")
        return verdict

    def plan(self, text: str, placeholders: tuple[Placeholder, ...]) -> list[str]:
        """Return the plan lines of `text` with sequential scans off (explain.py), or []."""
        if self.in_transaction:
            return []  # inside a script's block: its plan is not asked for
        return query_plan(self.conn, dollar_text(text))

    def plan_with_index(
        self,
        text: str,
        placeholders: tuple[Placeholder, ...],
        table: str,
        columns: tuple[str, ...],
        name: str,
    ) -> tuple[str, ...]:
        """Return the plan of `text` once an index `name` on `table(columns)` serves it.

        An index is never built on the server to find out (it would lock and read the table):
        with sequential scans off, a table still read in full has no index that serves the
        filter, and one on the filtered columns would; the plan is the same with that table's
        full read as a search.
        """
        plan = self.plan(text, placeholders)
        searched = f"SEARCH {table} USING INDEX {name} ({', '.join(columns)}=?)"
        return tuple(searched if line == f"SCAN {table}" else line for line in plan)

    def run(self, sql: str) -> Ran:
        """Run one DDL statement that creates a new object (inside `undone`), or refuse it."""
        from psycopg import pq

        if not self.in_transaction:
            return Ran("refused", "DDL runs only inside a block that is rolled back")
        if not _NEW_OBJECTS.match(sql):
            return Ran("refused", "only CREATE TABLE, VIEW, TYPE or SEQUENCE run on the server")
        pgconn = self.conn.pgconn
        pgconn.exec_(b"SAVEPOINT dbheal_run")
        result = pgconn.exec_(dollar_text(sql).text.encode("utf-8", "replace"))
        if result.status == pq.ExecStatus.FATAL_ERROR:
            pgconn.exec_(b"ROLLBACK TO SAVEPOINT dbheal_run")
            message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
            return Ran("failed", message.decode("utf-8", "replace"))
        pgconn.exec_(b"RELEASE SAVEPOINT dbheal_run")
        return Ran("ran")

    def undone(self, name: str) -> AbstractContextManager[None]:
        """Return a block run in a transaction that is rolled back when it ends."""
        return self._undone()

    @contextmanager
    def _undone(self) -> Iterator[None]:
        nested = self.in_transaction
        pgconn = self.conn.pgconn
        if not nested:
            pgconn.exec_(b"BEGIN")
            pgconn.exec_(b"SET LOCAL lock_timeout = '1s'")
            pgconn.exec_(b"SET LOCAL statement_timeout = '5s'")
        try:
            yield
        finally:
            if not nested:
                pgconn.exec_(b"ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """Whether an `undone` block's transaction is open."""
        from psycopg import pq

        return self.conn.pgconn.transaction_status != pq.TransactionStatus.IDLE

    def schema(self, source: str) -> Schema:
        """Return the schema as the judge's connection sees it now."""
        return schema_from_catalog(self.conn, self.schema_name, source)

    def has_objects(self) -> bool:
        """Return whether the judge's schema has a table or view."""
        row = self.conn.execute(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') LIMIT 1",
            (self.schema_name,),
        ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the judge's connection (its own: the judge owns it)."""
        self.conn.close()

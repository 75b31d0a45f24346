"""A missing table or column healed on the application's own psycopg connection, while it runs
(the runtime wrapper's PostgreSQL half, `runtime/postgres.py`).

The server says "relation ... does not exist" (SQLSTATE 42P01) or "column ... does not exist"
(42703). The migrations are replayed on a connection of their own (a schema rolled back); the
plan is the one `dbheal heal` would make (fix_plans.py: the migration's CREATE TABLE with its
indexes, or its ADD COLUMN); its statements run on the application's connection inside a
savepoint when a transaction is open (so they commit, or roll back, with the application's
own), else in a transaction of their own, under `lock_timeout`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.databases.postgres.catalog import schema_from_catalog
from dbheal_lsp.databases.postgres.fix_plans import add_column_plan, create_table_plan
from dbheal_lsp.databases.postgres.fix_transaction import current_schema

if TYPE_CHECKING:
    import psycopg

    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.model import MigrationPlan

__all__ = [
    "MISSING_STATES",
    "HealedElsewhere",
    "heal_missing",
    "healing_cursor_class",
    "plain_cursors",
    "plain_execute",
]

#: The SQLSTATEs of a missing relation and of a missing column.
MISSING_STATES = frozenset({"42P01", "42703"})
_RELATION = re.compile(r'relation "(?:[^"]+\.)?([^".]+)" does not exist')
_COLUMN = re.compile(r'column "(?:[^"]+\.)?([^".]+)"(?: of relation "([^"]+)")? does not exist')
_QUALIFIED = re.compile(r'column "?([\w$]+)"?\.(?:"?[\w$]+"?) does not exist')
#: How long a heal waits for a lock (another session's) before it gives up.
LOCK_TIMEOUT = "2s"


#: What another connection creating the same object at the same moment makes the heal's own
#: statement fail with: a table or column that now exists, a catalog row written meanwhile.
_CREATED_MEANWHILE = frozenset({"42P07", "42701", "23505"})


class HealedElsewhere(Exception):
    """What was missing exists now: another connection (another worker of the application)
    created it meanwhile, so the statement only needs to run again."""


def heal_missing(
    conn: psycopg.Connection[Any], message: str, query: str, folder: Path
) -> MigrationPlan | None:
    """Create what `message` says is missing from the migrations of `folder`, on `conn`;
    return the plan that ran, or None when no migration defines it (nothing ran). Raise
    HealedElsewhere when it exists by now; the driver's other errors propagate."""
    import psycopg

    schema = current_schema(conn)
    live = schema_from_catalog(conn, schema, "database")
    if _exists_now(message, query, live):
        raise HealedElsewhere(message)
    migrations = _replayed(conn, folder)
    plan = _plan(message, query, live, migrations)
    if plan is None:
        return None
    try:
        _run(conn, plan)
    except psycopg.Error as exc:
        if getattr(exc, "sqlstate", None) in _CREATED_MEANWHILE:
            raise HealedElsewhere(message) from exc
        raise
    return plan


def _exists_now(message: str, query: str, live: Any) -> bool:
    """Whether the table or column `message` says is missing is in the catalog by now."""
    if found := _RELATION.search(message):
        return live.table(found.group(1)) is not None
    if found := _COLUMN.search(message):
        column, table = found.group(1), found.group(2)
        if table:
            named = live.table(table)
            return named is not None and named.column(column) is not None
    return False


def _plan(message: str, query: str, live: Any, migrations: MigrationResult) -> MigrationPlan | None:
    if found := _RELATION.search(message):
        return create_table_plan(found.group(1), live, migrations, None, -1)
    if found := _COLUMN.search(message):
        column, table = found.group(1), found.group(2)
        tables = [table] if table else _tables_adding(column, query, migrations)
        for name in tables:
            plan = add_column_plan(name, column, live, migrations, None, -1)
            if plan is not None:
                return plan
    return None


def _tables_adding(column: str, query: str, migrations: MigrationResult) -> list[str]:
    """The tables a migration adds `column` to that `query` names (the server's message for
    a SELECT does not say which table)."""
    words = {w.lower() for w in re.findall(r"[\w$]+", query)}
    return [
        s.table
        for s in migrations.statements
        if s.kind == "add_column"
        and s.table
        and (s.column or "").lower() == column.lower()
        and s.table.lower() in words
    ]


def _replayed(conn: psycopg.Connection[Any], folder: Path) -> MigrationResult:
    """The migrations replayed on a connection of their own to the same server."""
    import psycopg

    from dbheal_lsp.databases.postgres.replay import replay_migrations

    info = conn.info
    other = psycopg.connect(info.dsn, password=info.password or None, autocommit=True)
    try:
        return replay_migrations(other, folder, None)
    finally:
        other.close()


def _run(conn: psycopg.Connection[Any], plan: MigrationPlan) -> None:
    """The plan's statements in a savepoint of the open transaction, else in one of their own."""
    from psycopg import pq

    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    own = conn.autocommit and idle
    conn.execute("BEGIN" if own else "SAVEPOINT dbheal_heal")
    try:
        row = conn.execute("SELECT current_setting('lock_timeout')").fetchone()
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for step in plan.steps:
            conn.execute(step.sql)
        # The application's own lock_timeout again for the rest of its transaction.
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (row[0] if row else "0",))
    except BaseException:
        conn.execute("ROLLBACK" if own else "ROLLBACK TO SAVEPOINT dbheal_heal")
        raise
    conn.execute("COMMIT" if own else "RELEASE SAVEPOINT dbheal_heal")


def plain_execute(conn: psycopg.Connection[Any], sql: str) -> None:
    """Run `sql` on a plain cursor, whatever cursors the connection makes (its own may heal:
    `healing_cursor_class`), so that the wrapper's savepoints are never guarded again."""
    import psycopg

    psycopg.Cursor(conn).execute(sql)


@contextmanager
def plain_cursors(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Make the connection's cursors plain ones for the block (a heal's own statements)."""
    import psycopg

    saved = conn.cursor_factory
    conn.cursor_factory = psycopg.Cursor
    try:
        yield
    finally:
        conn.cursor_factory = saved


#: `run(connection, call, query)`: the wrapper's guarded run of `call` (runtime/postgres.py).
Runner = Callable[[Any, Callable[[], Any], Any], Any]


def healing_cursor_class(run: Runner) -> type[psycopg.Cursor[Any]]:
    """A psycopg cursor class whose `execute` and `executemany` go through `run`: a
    connection's `cursor_factory`, for a driver that wants the connection's own class
    (SQLAlchemy)."""
    import psycopg

    class HealingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            run(
                self.connection,
                lambda: psycopg.Cursor.execute(self, query, params, **kwargs),
                query,
            )
            return self

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
            rows = params_seq if isinstance(params_seq, (list, tuple)) else list(params_seq)
            run(
                self.connection,
                lambda: psycopg.Cursor.executemany(self, query, rows, **kwargs),
                query,
            )

    return HealingCursor

"""The runtime wrapper for psycopg 3 connections: a missing table or column created from the
migrations while the application runs, and the statement retried once.

`wrap_psycopg(conn)` returns a proxy of the application's connection whose `execute` (and the
`execute` and `executemany` of the cursors its `cursor()` gives) heals "relation ... does not exist" (42P01) and
"column ... does not exist" (42703): the migration's statements run on the same connection
(`databases/postgres/heal_missing.py`), then the statement once more. A failed statement
aborts PostgreSQL's transaction, so inside a transaction each statement runs in a savepoint
(`SAVEPOINT`, then `RELEASE` once it succeeded: two more round trips per statement); the
savepoint is rolled back to after the error and the application's transaction goes on, the
heal committing with it. Any other error, or a missing object no migration defines, is raised
unchanged. Everything else (`commit`, `transaction()`, attributes, setting `autocommit`) is the
connection's own.

Both take the SQLite wrapper's modes (`runtime/modes.py`): `mode="heal"` (the default),
`"report"` (the missing object is recorded and the error raised, the statement running exactly
as without the wrapper: no savepoint) or `"off"` (the connection as it is); `DBHEAL_RUNTIME=off`
in the environment always turns the wrapper off, an operator's switch that needs no change of
code.

`install_sqlalchemy_postgres(engine)` makes a SQLAlchemy engine on PostgreSQL with psycopg 3
(`postgresql+psycopg://`) open each connection wrapped so: SQLAlchemy's statements run on
healing cursors, inside SQLAlchemy's own transaction.
Each heal, and each missing object not healed, is recorded in the project's
`.dbheal/state.sqlite` (`dbheal events`) with the application's file and line, as SQLite's are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.runtime.modes import Mode, resolve_mode

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["HealingPsycopg", "install_sqlalchemy_postgres", "wrap_psycopg"]

_SAVEPOINT = "SAVEPOINT dbheal_statement"


class HealingPsycopg:
    """A psycopg connection that heals missing tables and columns (module docstring)."""

    def __init__(self, conn: Any, migrations: Path, root: Path, mode: Mode = "heal") -> None:
        self._conn = conn
        self._migrations = migrations
        self._root = root
        self._mode = mode

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # `conn.autocommit = True` (SQLAlchemy sets it, so may the application) is the
        # connection's: only the proxy's own fields are kept here.
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._conn, name, value)

    def __enter__(self) -> HealingPsycopg:
        self._conn.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.__exit__(*exc)

    def cursor(self, *args: Any, **kwargs: Any) -> _HealingCursor:
        """The connection's cursor, whose `execute` heals."""
        return _HealingCursor(self, self._conn.cursor(*args, **kwargs))

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        """The connection's `execute`, healed (module docstring)."""
        cursor = self._conn.cursor()
        return self.run(lambda: cursor.execute(query, params, **kwargs), query)

    def run(self, call: Any, query: Any) -> Any:
        """`call()` in a savepoint when a transaction is or will be open; healed and retried
        once on a missing table or column that a migration defines."""
        # Mode report retries nothing: the statement fails as it would without the wrapper.
        guarded = self._mode == "heal" and self._needs_savepoint()
        if guarded:
            self._plain(_SAVEPOINT)
        try:
            result = call()
        except Exception as exc:
            state = getattr(getattr(exc, "diag", None), "sqlstate", None)
            if guarded:
                self._plain("ROLLBACK TO " + _SAVEPOINT)
                self._plain("RELEASE " + _SAVEPOINT)
            if not self._heal(state, exc, query):
                raise
            return call()  # once: a second error is the application's
        if guarded:
            self._plain("RELEASE " + _SAVEPOINT)
        return result

    def _plain(self, sql: str) -> None:
        """Run `sql` on a plain cursor: never on a healing one (`install_sqlalchemy_postgres`
        makes the connection's own cursors heal), which would guard it again."""
        from dbheal_lsp.databases.postgres.heal_missing import plain_execute

        plain_execute(self._conn, sql)

    def _needs_savepoint(self) -> bool:
        # IDLE = 0: with autocommit the statement is its own transaction; without, psycopg
        # begins one before it, and a failed statement would abort it.
        return not self._conn.autocommit or int(self._conn.info.transaction_status) != 0

    def _heal(self, state: str | None, exc: Exception, query: Any) -> bool:
        from dbheal_lsp.databases.postgres.heal_missing import (
            MISSING_STATES,
            HealedElsewhere,
            heal_missing,
            plain_cursors,
        )

        if state not in MISSING_STATES:
            return False
        text = query if isinstance(query, str) else str(query)
        message = str(exc).splitlines()[0] if str(exc) else ""
        if self._mode == "report":
            self._record(message, text, "none", "reported (mode report): not healed", None)
            return False
        try:
            with plain_cursors(self._conn):  # the heal's own statements are not healed
                plan = heal_missing(self._conn, message, text, self._migrations)
        except HealedElsewhere:
            self._record(
                message, text, "none", "created meanwhile by another connection; retried once", None
            )
            return True
        except Exception as failed:  # the heal's own failure: the application's error stands
            self._record(message, text, "none", f"failed: {failed}", None)
            return False
        if plan is None:
            self._record(message, text, "none", "not healed: no migration defines it", None)
            return False
        self._record(message, text, plan.title, "healed; retried once", plan.table)
        return True

    def _record(
        self, message: str, query: str, action: str, outcome: str, table: str | None
    ) -> None:
        """Record the event in the project's state file, and log it."""
        from dbheal_lsp.runtime.callsite import app_frame, app_frames, location
        from dbheal_lsp.runtime.incident import MAX_RECORDED_SQL
        from dbheal_lsp.runtime.process import log, state

        where = app_frame(app_frames(), self._root)
        state.record(
            self._root,
            error=message,
            statement=query[:MAX_RECORDED_SQL],
            **location(self._root, where),
            action=action,
            outcome=outcome,
            table=table,
        )
        shown = f"{where[0]}:{where[1]}" if where else "?"
        log().warning("dbheal: %s at %s: %s — %s", message, shown, action, outcome)


class _HealingCursor:
    """A psycopg cursor whose `execute` heals through its connection's proxy."""

    def __init__(self, owner: HealingPsycopg, cursor: Any) -> None:
        self._owner = owner
        self._cursor = cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __enter__(self) -> _HealingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> _HealingCursor:
        """The cursor's `execute`, healed; returns this cursor, as psycopg's does."""
        self._owner.run(lambda: self._cursor.execute(query, params, **kwargs), query)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        """The cursor's `executemany`, healed: a missing table or column fails on the first
        row, before any is written, and the rows are sent again (a generator is read once,
        into a list, so that they can be)."""
        rows = params_seq if isinstance(params_seq, (list, tuple)) else list(params_seq)
        self._owner.run(lambda: self._cursor.executemany(query, rows, **kwargs), query)


def wrap_psycopg(
    conn: Any,
    *,
    migrations: Path | None = None,
    root: Path | None = None,
    mode: str | None = None,
) -> Any:
    """Return `conn` (a psycopg 3 connection) healing missing tables and columns from the
    migrations of `migrations` (default: the project's, found from `root` or the current
    folder), in `mode` (see the module docstring; ValueError for an unknown one). In mode off,
    or without a migrations folder, the connection itself is returned."""
    from dbheal_lsp.config import find_root, load_config

    chosen = resolve_mode(mode)
    if chosen == "off":
        return conn
    project = find_root(root or Path.cwd())
    if migrations is None:
        migrations = load_config(project).migrations
    if migrations is None:
        return conn
    return HealingPsycopg(conn, Path(migrations), project, chosen)


def install_sqlalchemy_postgres(
    engine: Engine,
    *,
    migrations: Path | None = None,
    root: Path | None = None,
    mode: str | None = None,
) -> None:
    """Make a SQLAlchemy Engine on PostgreSQL (the psycopg 3 driver) heal like `wrap_psycopg`.

    One line after `create_engine`: it listens to the engine's `do_connect` event and opens
    each new DBAPI connection wrapped, so a statement on a missing table or column is healed
    and retried on SQLAlchemy's cursor. Connections the pool opened before are not changed:
    install before the first use (or `engine.dispose()`). Installing twice does nothing.
    """
    from sqlalchemy import event

    from dbheal_lsp.config import find_root, load_config
    from dbheal_lsp.runtime.process import state

    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        raise ValueError(
            "install_sqlalchemy_postgres needs an engine on PostgreSQL with psycopg 3 "
            f"(postgresql+psycopg), not {engine.dialect.name}+{engine.dialect.driver}"
        )
    chosen = resolve_mode(mode)
    if chosen == "off":
        return
    project = find_root(root or Path.cwd())
    folder = migrations if migrations is not None else load_config(project).migrations
    if folder is None or engine in state.installed:
        return
    dbapi = engine.dialect.loaded_dbapi
    from dbheal_lsp.databases.postgres.heal_missing import healing_cursor_class

    def run(conn: Any, call: Any, query: Any) -> Any:
        return HealingPsycopg(conn, Path(folder), project, chosen).run(call, query)

    cursor_class = healing_cursor_class(run)

    def do_connect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # The connection itself (SQLAlchemy and psycopg's type registry want the real class);
        # its cursors heal.
        conn = dbapi.connect(*cargs, **cparams)
        conn.cursor_factory = cursor_class
        return conn

    event.listen(engine, "do_connect", do_connect)
    state.installed.add(engine)

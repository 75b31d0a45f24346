"""The runtime wrapper: sqlite3 connections that heal a missing table or column while the app runs.

`connect(...)` is `sqlite3.connect(...)` with three more keyword-only arguments and returns a
`HealingConnection`, a real `sqlite3.Connection` subclass whose `cursor()` gives
`HealingCursor`s (its own `execute` calls sqlite3's, so the cursor that returns is sqlite3's).
`wrap(conn)` gives a connection the application already has the same behaviour, as a proxy
(`HealingProxy`): the class of an existing `sqlite3.Connection` cannot be changed. For SQLAlchemy,
`install_sqlalchemy(engine)` makes the engine open its connections with `connect`.

When `execute`, `executemany` or `executescript` (of the connection or of one of its cursors)
raises `sqlite3.OperationalError` "no such table: X", "no such column: C" or "table T has no
column named C", and a migration of the project defines X (or adds C with ALTER TABLE ... ADD
COLUMN), the wrapper runs that migration's statements for it (the table with its indexes and
triggers, or the column with its indexes) in one transaction, records the event in the
project's `.dbheal/state.sqlite`, retries the original call once and returns its result.
Otherwise the original error is raised again, unchanged, after it was recorded.

The successful path costs one Python frame and a `try` around sqlite3's own C method: nothing
is looked up, parsed or recorded until SQLite has raised. Importing this package imports only
the standard library; the migrations, the state file and the lock are imported on the first
error. docs/runtime.md describes the behaviour, the decisions and the limits.

The package: `modes` (modes, the environment, a connection's settings), `healing` (the
classes), `incident` (one error: heal, record, retry), `missing` (what is missing and its
plan), `transaction` (one heal's locks and transaction), `callsite` (where the application
is) and `process` (the process-wide state).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from dbheal_lsp.runtime.healing import (
    HealingConnection,
    HealingCursor,
    HealingProxy,
    connection_class,
)
from dbheal_lsp.runtime.modes import ENV_VAR, MODES, Mode, Settings, new_settings, resolve_mode
from dbheal_lsp.runtime.process import state
from dbheal_lsp.runtime.transaction import HEAL_WINDOW_SECONDS, LOCK_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "ENV_VAR",
    "HEAL_WINDOW_SECONDS",
    "LOCK_TIMEOUT_SECONDS",
    "MODES",
    "HealingConnection",
    "HealingCursor",
    "HealingProxy",
    "Mode",
    "connect",
    "install_sqlalchemy",
    "resolve_mode",
    "wrap",
]

_sqlite_connect: Callable[..., sqlite3.Connection] = sqlite3.connect


def connect(
    database: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    *args: Any,
    mode: str | None = None,
    migrations: str | os.PathLike[str] | None = None,
    project_root: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> sqlite3.Connection:
    """Open a SQLite database like `sqlite3.connect` (same arguments), healing missing tables
    and columns from the project's migrations.

    `mode`: "heal" (the default), "report" (record the error, raise it) or "off" (return what
    sqlite3.connect returns); see `resolve_mode` for DBHEAL_RUNTIME. `migrations`: the
    migrations folder (relative to the working directory), else `[tool.dbheal] migrations` of the
    project's pyproject.toml, else its migrations/ folder. `project_root`: where
    `.dbheal/state.sqlite` records the events and the configuration is read; by default the
    project (as `dbheal_lsp.config.find_root` finds it) of the file that calls connect.

    A `factory=` that subclasses sqlite3.Connection is combined with HealingConnection (its own
    methods still run); any other factory raises TypeError.
    """
    settings = new_settings(mode, migrations, project_root)
    if settings.mode == "off":
        return _sqlite_connect(database, *args, **kwargs)
    return _open(settings, database, args, kwargs)


def _open(
    settings: Settings, database: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> HealingConnection:
    positional = list(args)
    if len(positional) > 4:  # timeout, detect_types, isolation_level, check_same_thread, factory
        positional[4] = connection_class(positional[4])
    else:
        kwargs = {**kwargs, "factory": connection_class(kwargs.get("factory", sqlite3.Connection))}
    conn = cast("HealingConnection", _sqlite_connect(database, *positional, **kwargs))
    conn._dbheal = settings
    return conn


def wrap(
    conn: sqlite3.Connection | HealingProxy,
    *,
    mode: str | None = None,
    migrations: str | os.PathLike[str] | None = None,
    project_root: str | os.PathLike[str] | None = None,
) -> HealingProxy:
    """Return a proxy of an open connection that heals as `connect`'s connections do.

    The proxy forwards every other attribute (commit, close, row_factory, `with` ...) to the
    connection, which stays usable on its own (without healing); `proxy.__wrapped__` is it. A
    proxy is returned as it is. In mode "off" the proxy only forwards.
    """
    if isinstance(conn, HealingProxy):
        return conn
    if not isinstance(conn, sqlite3.Connection):
        raise TypeError(f"wrap() takes a sqlite3.Connection, not {type(conn).__name__}")
    return HealingProxy(conn, new_settings(mode, migrations, project_root))


def install_sqlalchemy(
    engine: Engine,
    *,
    mode: str | None = None,
    migrations: str | os.PathLike[str] | None = None,
    project_root: str | os.PathLike[str] | None = None,
) -> None:
    """Make a SQLAlchemy Engine on SQLite (the pysqlite driver) heal like `connect`.

    One line after `create_engine`: `install_sqlalchemy(engine)`. It listens to the engine's
    `do_connect` event and opens each new DBAPI connection with `connect`, so SQLAlchemy's
    cursors are HealingCursors: a statement that hits a missing table is healed and retried on
    the same cursor, and SQLAlchemy reads the retried statement's result. Connections the pool
    opened before are not changed: install before the first use (or `engine.dispose()`).
    Installing twice does nothing.
    """
    from sqlalchemy import event

    dbapi = getattr(engine.dialect, "loaded_dbapi", None) or getattr(engine.dialect, "dbapi", None)
    if engine.dialect.name != "sqlite" or getattr(dbapi, "connect", None) is not sqlite3.connect:
        raise ValueError(
            "install_sqlalchemy needs an engine on SQLite with the standard sqlite3 driver "
            f"(sqlite+pysqlite), not {engine.dialect.name}+{engine.dialect.driver}"
        )
    settings = new_settings(mode, migrations, project_root)
    if settings.mode == "off" or engine in state.installed:
        return

    def do_connect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        database, *rest = cargs
        return _open(settings, database, tuple(rest), dict(cparams))

    event.listen(engine, "do_connect", do_connect)
    state.installed.add(engine)

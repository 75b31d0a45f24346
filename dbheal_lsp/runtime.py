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
is looked up, parsed or recorded until SQLite has raised. Importing this module imports only
the standard library; the migrations, the state file and the lock are imported on the first
error. docs/runtime.md describes the behaviour, the decisions and the limits.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, cast, overload

if TYPE_CHECKING:
    import logging

    from sqlalchemy.engine import Engine
    from typing_extensions import Self

    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema
    from dbheal_lsp.fixes.state import StateStore
    from dbheal_lsp.model import MigrationPlan, Origin

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

Mode = Literal["heal", "report", "off"]
MODES: tuple[Mode, ...] = ("heal", "report", "off")
#: The environment variable that sets the mode (`off` in it always wins; see resolve_mode).
ENV_VAR = "DBHEAL_RUNTIME"
#: A table (or column) healed this many seconds ago that is missing again is not healed again.
HEAL_WINDOW_SECONDS = 60.0
#: How long a heal waits for the database's dbheal lock before giving up (the error is raised).
LOCK_TIMEOUT_SECONDS = 10.0
#: At most this many further missing tables or columns of the same statement are healed before
#: its one retry (a join of two tables that a migration added, say).
MAX_HEALS_PER_CALL = 8
#: Statements longer than this are cut in the recorded event.
MAX_RECORDED_SQL = 10_000


def _log() -> logging.Logger:
    # logging is imported on the first message, not with this module (it costs an application's
    # start-up about 5 ms when nothing else imported it).
    import logging

    return logging.getLogger(__name__)


_CursorT = TypeVar("_CursorT", bound=sqlite3.Cursor)
_T = TypeVar("_T")

# The C methods, called directly on the successful path.
_OperationalError = sqlite3.OperationalError
_cexec = sqlite3.Cursor.execute
_cexecmany = sqlite3.Cursor.executemany
_cexecscript = sqlite3.Cursor.executescript
_ccursor = sqlite3.Connection.cursor
_conn_exec = sqlite3.Connection.execute
_conn_execmany = sqlite3.Connection.executemany
_conn_execscript = sqlite3.Connection.executescript
_sqlite_connect: Callable[..., sqlite3.Connection] = sqlite3.connect

_EXECUTE = "execute"
_EXECUTEMANY = "executemany"
_EXECUTESCRIPT = "executescript"

# Patterns (compiled by `re` on the first error, not at import).
_NO_TABLE = r"no such table: (.+)\Z"
_NO_COLUMN = r"no such column: (.+)\Z"
_HAS_NO_COLUMN = r"table (.+) has no column named (.+)\Z"
_FIRST_WORD = r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*([A-Za-z]*)"
_TRUE = frozenset({"1", "true", "yes", "on", "heal"})
_FALSE = frozenset({"0", "false", "no", "off", "disable", "disabled", "none"})


# --- modes --------------------------------------------------------------------------------------


def _parse_mode(value: str) -> Mode | None:
    text = value.strip().lower()
    if text in _TRUE:
        return "heal"
    if text in _FALSE:
        return "off"
    if text == "report":
        return "report"
    return None


def resolve_mode(mode: str | None = None) -> Mode:
    """Return the mode a connection opened now gets.

    The argument wins over the environment variable `DBHEAL_RUNTIME`, with one exception:
    `DBHEAL_RUNTIME=off` always turns the wrapper off (an operator's switch that needs no change
    of code). Without an argument, the variable decides, else "heal". The variable also takes
    1/true/yes/on (heal) and 0/false/no/disabled (off); an unknown value is logged and ignored.
    An unknown `mode` argument raises ValueError.
    """
    chosen: Mode | None = None
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        chosen = mode
    env_text = os.environ.get(ENV_VAR)
    env: Mode | None = None
    if env_text is not None and env_text.strip():
        env = _parse_mode(env_text)
        if env is None:
            _log().warning(
                "dbheal: ignoring %s=%r (expected one of %s)", ENV_VAR, env_text, ", ".join(MODES)
            )
    if env == "off":
        return "off"
    return chosen or env or "heal"


# --- settings of a connection -------------------------------------------------------------------


class _Settings:
    """What one connection was opened with; the root and migrations are found on first use.

    (Plain classes rather than dataclasses here: importing dataclasses imports inspect, and the
    module is imported by applications at start-up.)
    """

    __slots__ = ("_found_migrations", "_found_root", "migrations", "mode", "origin", "root")

    def __init__(
        self,
        mode: Mode,
        migrations: Path | None = None,
        root: Path | None = None,
        origin: str | None = None,
    ) -> None:
        self.mode = mode
        self.migrations = migrations  # given explicitly (absolute)
        self.root = root  # given explicitly (absolute)
        self.origin = origin  # the application's file that opened the connection
        self._found_root: Path | None = None
        self._found_migrations: Path | None = None

    def __repr__(self) -> str:
        return (
            f"_Settings(mode={self.mode!r}, migrations={self.migrations!r}, root={self.root!r}, "
            f"origin={self.origin!r})"
        )

    def project_root(self, fallback: str | None = None) -> Path:
        """Return the project root: given, else found from the app's file, else the cwd."""
        if self.root is not None:
            return self.root
        if self._found_root is None:
            start = self.origin or fallback
            if start is None:
                return Path.cwd()
            from dbheal_lsp.config import find_root

            self._found_root = find_root(Path(start))
        return self._found_root

    def migrations_folder(self, root: Path) -> Path | None:
        """Return the migrations folder: given, else [tool.dbheal] migrations, else discovered."""
        if self.migrations is not None:
            return self.migrations
        if self._found_migrations is None:
            self._found_migrations = _discover_migrations(root)
        return self._found_migrations


def _discover_migrations(root: Path) -> Path | None:
    from dbheal_lsp.config import ConfigError, discover_migrations, read_pyproject

    try:
        configured = read_pyproject(root).get("migrations")
    except ConfigError as exc:
        _log().warning("dbheal: %s", exc)
        configured = None
    if isinstance(configured, str) and configured:
        folder = Path(configured).expanduser()
        folder = folder if folder.is_absolute() else root / folder
        if folder.is_dir():
            return folder
        _log().warning("dbheal: the migrations folder %s of %s does not exist", folder, root)
    return discover_migrations(root)


def _new_settings(
    mode: str | None,
    migrations: str | os.PathLike[str] | None,
    project_root: str | os.PathLike[str] | None,
) -> _Settings:
    root = None if project_root is None else Path(project_root).expanduser().resolve()
    folder = None if migrations is None else Path(migrations).expanduser().resolve()
    return _Settings(resolve_mode(mode), folder, root, _caller_file())


# --- the wrapped classes ------------------------------------------------------------------------
#
# Every wrapped method has the same shape: sqlite3's own method inside a `try`, which is all the
# successful path runs; on an OperationalError, `_on_error` heals (or says no, and the error is
# raised again by a bare `raise`, so its traceback is the original one); then one retry.


def _retry(
    conn: sqlite3.Connection, settings: _Settings | None, sql: str, run: Callable[[], _T]
) -> _T:
    """Run the retry after a heal; if it fails too, record that and raise its error."""
    try:
        return run()
    except _OperationalError as exc:
        _on_retry_error(conn, settings, exc, sql)
        raise


class HealingCursor(sqlite3.Cursor):
    """A sqlite3 cursor whose execute, executemany and executescript heal (see the module)."""

    # No __slots__: an application's cursor class with slots of its own can then be combined
    # with it. Set by a proxy's cursor(); else the connection's settings apply.
    _dbheal: _Settings | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        """sqlite3.Cursor.execute; a missing table or column is healed and the call retried."""
        try:
            _cexec(self, sql, parameters)
            return self
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            if _on_error(self.connection, settings, exc, _EXECUTE, sql, parameters) is None:
                raise
        _retry(self.connection, settings, sql, lambda: _cexec(self, sql, parameters))
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Self:
        """sqlite3.Cursor.executemany; healed and retried like execute."""
        try:
            _cexecmany(self, sql, seq_of_parameters)
            return self
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            rows = seq_of_parameters
            if _on_error(self.connection, settings, exc, _EXECUTEMANY, sql, rows) is None:
                raise
        _retry(self.connection, settings, sql, lambda: _cexecmany(self, sql, rows))
        return self

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """sqlite3.Cursor.executescript; after a heal, the script is run again from the
        statement that failed (the statements before it ran already)."""
        try:
            return _cexecscript(self, sql_script)
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            again = _on_error(self.connection, settings, exc, _EXECUTESCRIPT, sql_script, None)
            if again is None:
                raise
        rest = again
        return _retry(self.connection, settings, rest, lambda: _cexecscript(self, rest))


class _ComposedCursor(HealingCursor):
    """HealingCursor's methods for a class combined with the application's cursor class: they
    call the application's class (next in the MRO), not sqlite3's C methods."""

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        parent = cast("Self", super(HealingCursor, self))
        try:
            return parent.execute(sql, parameters)
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            if _on_error(self.connection, settings, exc, _EXECUTE, sql, parameters) is None:
                raise
        return _retry(self.connection, settings, sql, lambda: parent.execute(sql, parameters))

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Self:
        parent = cast("Self", super(HealingCursor, self))
        try:
            return parent.executemany(sql, seq_of_parameters)
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            rows = seq_of_parameters
            if _on_error(self.connection, settings, exc, _EXECUTEMANY, sql, rows) is None:
                raise
        return _retry(self.connection, settings, sql, lambda: parent.executemany(sql, rows))

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        parent = cast("Self", super(HealingCursor, self))
        try:
            return parent.executescript(sql_script)
        except _OperationalError as exc:
            settings = _cursor_settings(self)
            again = _on_error(self.connection, settings, exc, _EXECUTESCRIPT, sql_script, None)
            if again is None:
                raise
        rest = again
        return _retry(self.connection, settings, rest, lambda: parent.executescript(rest))


class HealingConnection(sqlite3.Connection):
    """A sqlite3 connection whose execute, executemany, executescript and cursors heal.

    `connect` returns one; `sqlite3.connect(path, factory=HealingConnection)` works too (its
    settings then come from the environment when the first error happens).
    """

    _dbheal: _Settings | None = None

    @overload
    def cursor(self, factory: None = None) -> sqlite3.Cursor: ...
    @overload
    def cursor(self, factory: Callable[[sqlite3.Connection], _CursorT]) -> _CursorT: ...
    def cursor(
        self, factory: Callable[[sqlite3.Connection], sqlite3.Cursor] | None = None
    ) -> sqlite3.Cursor:
        """sqlite3.Connection.cursor; the cursor is a HealingCursor (or the factory's class
        combined with it, when the factory is a sqlite3.Cursor subclass)."""
        if factory is None:
            return _ccursor(self, HealingCursor)
        chosen: Callable[[sqlite3.Connection], sqlite3.Cursor] = _cursor_class(factory)
        return _ccursor(self, chosen)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """sqlite3.Connection.execute; a missing table or column is healed and the call retried.

        The cursor it returns is sqlite3's own (as sqlite3's execute makes it): the statement
        was healed, but another statement run on that cursor is not. Cursors from `cursor()`
        heal every statement.
        """
        try:
            return _conn_exec(self, sql, parameters)
        except _OperationalError as exc:
            if _on_error(self, self._dbheal, exc, _EXECUTE, sql, parameters) is None:
                raise
        return _retry(self, self._dbheal, sql, lambda: _conn_exec(self, sql, parameters))

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """sqlite3.Connection.executemany; healed and retried like execute."""
        try:
            return _conn_execmany(self, sql, parameters)
        except _OperationalError as exc:
            if _on_error(self, self._dbheal, exc, _EXECUTEMANY, sql, parameters) is None:
                raise
        return _retry(self, self._dbheal, sql, lambda: _conn_execmany(self, sql, parameters))

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """sqlite3.Connection.executescript; after a heal, the script is run again from the
        statement that failed (the statements before it ran already)."""
        try:
            return _conn_execscript(self, sql_script)
        except _OperationalError as exc:
            again = _on_error(self, self._dbheal, exc, _EXECUTESCRIPT, sql_script, None)
            if again is None:
                raise
        rest = again
        return _retry(self, self._dbheal, rest, lambda: _conn_execscript(self, rest))


class _ComposedConnection(HealingConnection):
    """HealingConnection's methods for a class combined with the application's factory: they
    call the application's class (next in the MRO), not sqlite3's C methods."""

    def cursor(  # type: ignore[override]
        self, factory: Callable[[sqlite3.Connection], sqlite3.Cursor] | None = None
    ) -> sqlite3.Cursor:
        chosen = HealingCursor if factory is None else _cursor_class(factory)
        return super(HealingConnection, self).cursor(chosen)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        parent = cast("sqlite3.Connection", super(HealingConnection, self))
        try:
            return parent.execute(sql, parameters)
        except _OperationalError as exc:
            if _on_error(self, self._dbheal, exc, _EXECUTE, sql, parameters) is None:
                raise
        return _retry(self, self._dbheal, sql, lambda: parent.execute(sql, parameters))

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        parent = cast("sqlite3.Connection", super(HealingConnection, self))
        try:
            return parent.executemany(sql, parameters)
        except _OperationalError as exc:
            if _on_error(self, self._dbheal, exc, _EXECUTEMANY, sql, parameters) is None:
                raise
        return _retry(self, self._dbheal, sql, lambda: parent.executemany(sql, parameters))

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        parent = cast("sqlite3.Connection", super(HealingConnection, self))
        try:
            return parent.executescript(sql_script)
        except _OperationalError as exc:
            again = _on_error(self, self._dbheal, exc, _EXECUTESCRIPT, sql_script, None)
            if again is None:
                raise
        rest = again
        return _retry(self, self._dbheal, rest, lambda: parent.executescript(rest))


_class_lock = threading.Lock()
_composed: dict[type, type] = {}


def _combined(base: type, mixin: type, user: type) -> Any:
    """Return `user` if it already heals, else the class made of `mixin` and `user` (cached)."""
    if issubclass(user, base):
        return user
    with _class_lock:
        made = _composed.get(user)
        if made is None:
            made = type(f"Healing{user.__name__}", (mixin, user), {"__module__": __name__})
            _composed[user] = made
        return made


def _cursor_class(factory: Callable[[sqlite3.Connection], _CursorT]) -> Any:
    """Return the cursor factory to use for `factory`: combined with HealingCursor when it is a
    sqlite3.Cursor subclass, else the factory itself (its cursors then do not heal)."""
    if isinstance(factory, type) and issubclass(factory, sqlite3.Cursor):
        if factory is sqlite3.Cursor:
            return HealingCursor
        try:
            return _combined(HealingCursor, _ComposedCursor, factory)
        except TypeError as exc:  # a layout that cannot be combined: the cursor as it is
            _log().debug("dbheal: cursors of %r are not healed: %s", factory, exc)
    return factory


def _connection_class(factory: object) -> type[HealingConnection]:
    if factory is sqlite3.Connection:
        return HealingConnection
    if isinstance(factory, type) and issubclass(factory, sqlite3.Connection):
        try:
            made = _combined(HealingConnection, _ComposedConnection, factory)
        except TypeError as exc:
            raise TypeError(
                f"dbheal_lsp.runtime.connect: cannot combine the factory {factory!r} with "
                f"HealingConnection ({exc}); open the connection with sqlite3 and wrap() it"
            ) from exc
        return cast("type[HealingConnection]", made)
    raise TypeError(
        "dbheal_lsp.runtime.connect: factory must be a subclass of sqlite3.Connection, not "
        f"{factory!r}; for another callable, open the connection with sqlite3 and wrap() it"
    )


def _cursor_settings(cursor: sqlite3.Cursor) -> _Settings | None:
    settings = getattr(cursor, "_dbheal", None)
    if settings is None:
        settings = getattr(cursor.connection, "_dbheal", None)
    return cast("_Settings | None", settings)


class HealingProxy:
    """What `wrap(conn)` returns: the connection's attributes and methods, with execute,
    executemany, executescript and cursor healing as HealingConnection's do.

    It is not a `sqlite3.Connection` (the class of an existing connection cannot be changed):
    code that checks `isinstance(x, sqlite3.Connection)` or hands the connection to a C
    function (`Connection.backup`, `sqlite3.Cursor(conn)`) needs `proxy.__wrapped__`, the
    wrapped connection. Use `connect` where a real Connection is needed.
    """

    __slots__ = ("__wrapped__", "_dbheal")

    __wrapped__: sqlite3.Connection
    _dbheal: _Settings

    def __init__(self, conn: sqlite3.Connection, settings: _Settings) -> None:
        object.__setattr__(self, "__wrapped__", conn)
        object.__setattr__(self, "_dbheal", settings)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__wrapped__, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__wrapped__, name)

    def __repr__(self) -> str:
        return f"<dbheal HealingProxy of {self.__wrapped__!r} (mode {self._dbheal.mode})>"

    def __enter__(self) -> HealingProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Literal[False]:
        self.__wrapped__.__exit__(*exc_info)
        return False

    def cursor(
        self, factory: Callable[[sqlite3.Connection], sqlite3.Cursor] | None = None
    ) -> sqlite3.Cursor:
        """The wrapped connection's cursor: a HealingCursor unless `factory` says otherwise."""
        chosen = HealingCursor if factory is None else _cursor_class(factory)
        cursor = self.__wrapped__.cursor(chosen)
        if isinstance(cursor, HealingCursor):
            cursor._dbheal = self._dbheal
        return cursor

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """The connection's execute; a missing table or column is healed and the call retried."""
        conn = self.__wrapped__
        try:
            return conn.execute(sql, parameters)
        except _OperationalError as exc:
            if _on_error(conn, self._dbheal, exc, _EXECUTE, sql, parameters) is None:
                raise
        return _retry(conn, self._dbheal, sql, lambda: conn.execute(sql, parameters))

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """The connection's executemany; healed and retried like execute."""
        conn = self.__wrapped__
        try:
            return conn.executemany(sql, parameters)
        except _OperationalError as exc:
            if _on_error(conn, self._dbheal, exc, _EXECUTEMANY, sql, parameters) is None:
                raise
        return _retry(conn, self._dbheal, sql, lambda: conn.executemany(sql, parameters))

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """The connection's executescript; run again from the statement that failed."""
        conn = self.__wrapped__
        try:
            return conn.executescript(sql_script)
        except _OperationalError as exc:
            again = _on_error(conn, self._dbheal, exc, _EXECUTESCRIPT, sql_script, None)
            if again is None:
                raise
        rest = again
        return _retry(conn, self._dbheal, rest, lambda: conn.executescript(rest))


# --- the front doors ----------------------------------------------------------------------------


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
    settings = _new_settings(mode, migrations, project_root)
    if settings.mode == "off":
        return _sqlite_connect(database, *args, **kwargs)
    return _open(settings, database, args, kwargs)


def _open(
    settings: _Settings, database: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> HealingConnection:
    positional = list(args)
    if len(positional) > 4:  # timeout, detect_types, isolation_level, check_same_thread, factory
        positional[4] = _connection_class(positional[4])
    else:
        kwargs = {**kwargs, "factory": _connection_class(kwargs.get("factory", sqlite3.Connection))}
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
    return HealingProxy(conn, _new_settings(mode, migrations, project_root))


_installed: weakref.WeakSet[Any] = weakref.WeakSet()


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
    settings = _new_settings(mode, migrations, project_root)
    if settings.mode == "off" or engine in _installed:
        return

    def do_connect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        database, *rest = cargs
        return _open(settings, database, tuple(rest), dict(cparams))

    event.listen(engine, "do_connect", do_connect)
    _installed.add(engine)


# --- where the application is -------------------------------------------------------------------


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SQLITE_DIR = os.path.dirname(os.path.abspath(sqlite3.__file__)) + os.sep
_library_dirs: tuple[str, ...] | None = None


def _internal_dirs() -> tuple[str, ...]:
    dirs = [_PACKAGE_DIR, _SQLITE_DIR]
    sqlalchemy = sys.modules.get("sqlalchemy")
    location = getattr(sqlalchemy, "__file__", None)
    if location:
        dirs.append(os.path.dirname(os.path.abspath(location)) + os.sep)
    return tuple(dirs)


def _library_prefixes() -> tuple[str, ...]:
    global _library_dirs
    if _library_dirs is None:
        import sysconfig

        paths = sysconfig.get_paths()
        found = {os.path.abspath(paths[k]) + os.sep for k in ("stdlib", "platstdlib") if k in paths}
        _library_dirs = tuple(sorted(found))
    return _library_dirs


def _is_library(filename: str) -> bool:
    parts = filename.replace("\\", "/").split("/")
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return filename.startswith(_library_prefixes())


def _app_frames() -> list[tuple[str, int, bool]]:
    """Return (file, line, is library) of the frames outside dbheal, sqlite3 and SQLAlchemy,
    innermost first."""
    internal = _internal_dirs()
    found: list[tuple[str, int, bool]] = []
    frame: Any = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(internal) and not filename.startswith("<frozen"):
            library = filename.startswith("<") or _is_library(filename)
            found.append((filename, frame.f_lineno, library))
        frame = frame.f_back
    return found


def _app_frame(
    frames: list[tuple[str, int, bool]], root: Path | None = None
) -> tuple[str, int] | None:
    """Return the file and line of the application's call among `frames` (from _app_frames):
    the innermost frame in the project `root`, else the innermost outside the standard library
    and site-packages (under a library that ran the query, say), else the innermost."""
    if root is not None:
        prefix = str(root) + os.sep
        for filename, line, _ in frames:
            if filename.startswith(prefix):
                return filename, line
    for filename, line, library in frames:
        if not library:
            return filename, line
    return (frames[0][0], frames[0][1]) if frames else None


def _caller_file() -> str | None:
    found = _app_frame(_app_frames())
    if found is None or found[0].startswith("<"):
        return None
    return found[0]


# --- what went wrong ----------------------------------------------------------------------------


class _Problem(NamedTuple):
    """A missing table (`name`), or a missing column `name` of the table or alias `qualifier`
    (`exact` when the qualifier is certainly the table, as in "table T has no column named C")."""

    kind: Literal["table", "column"]
    name: str
    qualifier: str = ""
    exact: bool = False

    @property
    def table(self) -> str | None:
        """The table to record with the event: the missing one, or the column's if known."""
        if self.kind == "table":
            return self.name
        return self.qualifier if self.exact else None


def _problem(message: str) -> _Problem | None:
    match = re.match(_NO_TABLE, message, re.DOTALL)
    if match:
        name = match.group(1)
        if name[:5].lower() == "main.":
            name = name[5:]
        return _Problem("table", name)
    match = re.match(_NO_COLUMN, message, re.DOTALL)
    if match:
        qualifier, _, column = match.group(1).rpartition(".")
        return _Problem("column", column, qualifier.rpartition(".")[2])
    match = re.match(_HAS_NO_COLUMN, message, re.DOTALL)
    if match:
        table = match.group(1)
        if table[:5].lower() == "main.":
            table = table[5:]
        return _Problem("column", match.group(2), table, exact=True)
    return None


# --- process-wide state -------------------------------------------------------------------------


class _Shared:
    """What every connection of the process shares: heal locks, recent heals, state stores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.heal_locks: dict[str, threading.Lock] = {}
        self.recent: dict[tuple[str, str], float] = {}  # (database, target) -> monotonic time
        self.stores: dict[Path, StateStore] = {}
        self.store_lock = threading.Lock()  # opening a state file can wait for another process
        self.unwritable: set[Path] = set()
        self.migration_cache: Any = None

    def heal_lock(self, key: str) -> threading.Lock:
        with self.lock:
            lock = self.heal_locks.get(key)
            if lock is None:
                lock = self.heal_locks[key] = threading.Lock()
            return lock

    def migrations(self, folder: Path) -> MigrationResult:
        with self.lock:
            if self.migration_cache is None:
                from dbheal_lsp.analysis.replay import MigrationCache

                self.migration_cache = MigrationCache()
            cache = self.migration_cache
        return cast("MigrationResult", cache.get(folder))

    def healed_at(self, database: str, target: str) -> float | None:
        with self.lock:
            return self.recent.get((database, target))

    def mark_healed(self, database: str, target: str) -> None:
        with self.lock:
            self.recent[(database, target)] = time.monotonic()

    def store(self, root: Path) -> StateStore | None:
        from dbheal_lsp.fixes.state import StateError, StateStore

        with self.store_lock:
            store = self.stores.get(root)
            if store is not None:
                return store
            try:
                store = StateStore(root)
            except (StateError, OSError) as exc:
                self._cannot_record(root, exc)
                return None
            self.stores[root] = store
            return store

    def _cannot_record(self, root: Path, exc: BaseException) -> None:
        # Warned once per project and process: an app that keeps failing must not flood its log.
        if root not in self.unwritable:
            self.unwritable.add(root)
            _log().warning("dbheal: cannot record runtime events in %s: %s", root, exc)
        else:
            _log().debug("dbheal: cannot record runtime events in %s: %s", root, exc)

    def record(self, root: Path, **event: Any) -> None:
        """Store an event in the state file of `root`; any failure is logged, never raised."""
        try:
            store = self.store(root)
            if store is not None:
                store.record_event(**event)
        except Exception as exc:
            with self.store_lock:
                self._cannot_record(root, exc)


_shared = _Shared()


def _after_fork_in_child() -> None:
    # A lock another thread held at the fork stays held in the child: start with new ones.
    global _class_lock
    _class_lock = threading.Lock()
    _shared.lock = threading.Lock()
    _shared.store_lock = threading.Lock()
    _shared.heal_locks = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_seen: weakref.WeakSet[BaseException] = weakref.WeakSet()
_local = threading.local()


# --- the handler --------------------------------------------------------------------------------


def _on_error(
    conn: sqlite3.Connection,
    settings: _Settings | None,
    exc: sqlite3.OperationalError,
    how: str,
    sql: object,
    parameters: object,
) -> str | None:
    """Handle the OperationalError `exc` of a call; return the SQL to run again once it is
    healed (the statement, or the rest of a script), or None to raise `exc` again.

    Never raises: whatever goes wrong in here is logged, and the caller raises `exc`.
    """
    if exc in _seen or (settings is not None and settings.mode == "off"):
        return None
    _seen.add(exc)
    problem = _problem(str(exc))
    if problem is None or not isinstance(sql, str) or getattr(_local, "busy", False):
        return None
    _local.busy = True
    try:
        if settings is None:  # sqlite3.connect(..., factory=HealingConnection): found now
            settings = _Settings(resolve_mode(None))
            if isinstance(conn, HealingConnection):
                conn._dbheal = settings
            if settings.mode == "off":
                return None
        return _Incident(conn, settings, exc, how, sql, parameters).handle(problem)
    except Exception:
        _log().exception("dbheal: the runtime wrapper failed; the original error is raised")
        return None
    finally:
        _local.busy = False


def _on_retry_error(
    conn: sqlite3.Connection, settings: _Settings | None, exc: sqlite3.OperationalError, sql: str
) -> None:
    """Record that the one retry after a heal failed too (then the caller raises it)."""
    _seen.add(exc)
    try:
        settings = settings or _Settings(resolve_mode(None))
        frames = _app_frames()
        guess = _app_frame(frames)
        root = settings.project_root(guess[0] if guess else None)
        where = _app_frame(frames, root)
        _shared.record(
            root,
            error=str(exc),
            statement=sql[:MAX_RECORDED_SQL],
            **_location(root, where),
            action="retry",
            outcome="failed: the statement failed again after healing; not retried again",
            table=None,
        )
    except Exception:
        _log().exception("dbheal: cannot record a failed retry")


def _location(root: Path, where: tuple[str, int] | None) -> dict[str, Any]:
    """The path (relative to the root when inside it) and line of an event."""
    if where is None or where[0].startswith("<"):  # <stdin>, <string>: no file to point at
        return {"path": None, "line": None}
    return {"path": _relative(root, where[0]), "line": where[1]}


def _relative(root: Path, filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


class _PlainConnection:
    """The app's connection seen through plain cursors: no row factory, no healing wrapper."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return _cexec(sqlite3.Cursor(self.conn), sql, parameters)


class _TextAsStr:
    """Names must come back as str whatever text_factory the application set: for the `with`
    block, the connection's text_factory is str."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.saved: Any = None

    def __enter__(self) -> None:
        self.saved = self.conn.text_factory
        if self.saved is not str:
            self.conn.text_factory = str

    def __exit__(self, *exc_info: object) -> None:
        if self.saved is not str:
            self.conn.text_factory = self.saved


class _Target:
    """One thing to heal: a table or a column, its plan (None when it exists now) and where the
    migration defines it (file:line relative to the project root)."""

    __slots__ = ("column", "kind", "origin", "plan", "table")

    def __init__(
        self,
        kind: Literal["table", "column"],
        table: str,
        column: str | None,
        plan: MigrationPlan | None,
        origin: str = "",
    ) -> None:
        self.kind = kind
        self.table = table
        self.column = column
        self.plan = plan
        self.origin = origin

    @property
    def action(self) -> str:
        """What healing it does, as the event's action starts: "create_table T" or
        "add_column T.C" (what the loop window looks for in the state file)."""
        if self.kind == "table":
            return f"create_table {self.table}"
        return f"add_column {self.table}.{self.column}"

    @property
    def key(self) -> str:
        return self.action.lower()


class _NotHealed(Exception):
    """A reason, recorded as the outcome, why the error is raised again."""

    def __init__(self, outcome: str, action: str = "none") -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.action = action


class _Incident:
    """One error of one call: find what is missing, heal it, record it."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: _Settings,
        exc: sqlite3.OperationalError,
        how: str,
        sql: str,
        parameters: object,
    ) -> None:
        self.conn = conn
        self.plain = _PlainConnection(conn)
        self.settings = settings
        self.message = str(exc)
        self.how = how
        self.sql = sql
        self.parameters = parameters
        frames = _app_frames()
        guess = _app_frame(frames)
        self.root = settings.project_root(guess[0] if guess else None)
        self.where = _app_frame(frames, self.root)
        self._database: tuple[str, Path | None] | None = None

    # -- recording

    def record(
        self, action: str, outcome: str, table: str | None, error: str | None = None
    ) -> None:
        where = self.where
        _shared.record(
            self.root,
            error=error or self.message,
            statement=self.sql[:MAX_RECORDED_SQL],
            **_location(self.root, where),
            action=action,
            outcome=outcome,
            table=table,
        )
        # A change to the schema, or a heal that failed, is worth a warning; an error that is
        # simply raised again (the application sees it anyway) is information.
        changed = outcome.startswith("healed") and action != "none"
        log = _log().warning if changed or outcome.startswith("failed") else _log().info
        log(
            "dbheal: %s at %s: %s — %s",
            self.message,
            f"{where[0]}:{where[1]}" if where else "?",
            action,
            outcome,
        )

    # -- the flow

    def handle(self, problem: _Problem) -> str | None:
        table = problem.table
        try:
            folder = self.settings.migrations_folder(self.root)
            if folder is None:
                raise _NotHealed(
                    "not healed: no migrations folder (pass migrations=, or set [tool.dbheal] "
                    f"migrations in {self.root / 'pyproject.toml'})"
                )
            migrations = _shared.migrations(folder)
            _check_defined(problem, migrations)
            with _TextAsStr(self.conn):
                if self.settings.mode == "report":
                    self.report(problem, migrations)
                    return None
                again = self.sql
                if self.how == _EXECUTESCRIPT:
                    again = self.rest_of_script()
                target = self.heal(problem, migrations)
                table = target.table
                if self.how != _EXECUTESCRIPT:
                    self.heal_more(migrations, {target.key})
                return again
        except _NotHealed as reason:
            outcome = reason.outcome
            if self.settings.mode == "report" and not outcome.startswith("reported"):
                outcome = f"reported (mode report); {outcome}"
            self.record(reason.action, outcome, table)
            return None

    def report(self, problem: _Problem, migrations: MigrationResult) -> None:
        try:
            target = self.target(problem, migrations, self.live())
        except _NotHealed as reason:
            raise _NotHealed(f"reported (mode report); {reason.outcome}") from None
        if target.plan is None:
            raise _NotHealed(f"reported (mode report); the {target.kind} exists now", "none")
        raise _NotHealed("reported (mode report): not healed", f"would {self.describe(target)}")

    def heal_more(self, migrations: MigrationResult, done: set[str]) -> None:
        """Heal the other missing tables or columns the statement needs, before its retry."""
        probe_parameters = self.parameters
        if self.how == _EXECUTEMANY:
            rows = self.parameters
            if not isinstance(rows, (list, tuple)) or not rows:
                return
            probe_parameters = rows[0]
        first = re.match(_FIRST_WORD, self.sql, re.DOTALL)
        if first is None or first.group(1).upper() in ("", "EXPLAIN"):
            return
        for _ in range(MAX_HEALS_PER_CALL):
            try:
                self.plain.execute("EXPLAIN " + self.sql, cast("Any", probe_parameters))
                return
            except Exception as exc:
                problem = _problem(str(exc)) if isinstance(exc, _OperationalError) else None
                if problem is None:
                    return
                self.message = str(exc)
                try:
                    _check_defined(problem, migrations)
                    target = self.heal(problem, migrations)
                except _NotHealed as reason:
                    # The retry raises this error (and records that it failed again).
                    self.record(reason.action, reason.outcome, problem.table)
                    return
                if target.key in done:
                    return
                done.add(target.key)

    # -- what is missing

    def live(self) -> Schema:
        from dbheal_lsp.analysis.schema import schema_from_connection

        return schema_from_connection(cast("sqlite3.Connection", self.plain), "database")

    def target(self, problem: _Problem, migrations: MigrationResult, live: Schema) -> _Target:
        """Return what to heal for `problem` (with no plan when it exists now), or raise
        _NotHealed saying why nothing can be."""
        from dbheal_lsp.fixes.plans import add_column_plan, create_table_plan

        conn = cast("sqlite3.Connection", self.plain)
        if problem.kind == "table":
            name = problem.name
            present = live.table(name)
            if present is not None:
                return _Target("table", present.name, None, None)
            defined = migrations.schema.table(name)
            if defined is None:
                raise _NotHealed(f"not healed: no migration defines table {name}")
            plan = create_table_plan(name, conn, live, migrations)
            creating = next(
                (
                    s
                    for s in migrations.statements_for_table(name)
                    if s.kind in ("create_table", "create_view")
                ),
                None,
            )
            if plan is None or creating is None:
                raise _NotHealed(f"not healed: cannot plan table {name} from the migrations")
            return _Target("table", defined.name, None, plan, self.origin(creating.origin))
        column = problem.name
        candidates = [
            t
            for t in live.tables.values()
            if not t.is_view
            and (s := migrations.column_statement(t.name, column)) is not None
            and s.kind == "add_column"
        ]
        named = [t for t in candidates if t.name.lower() == problem.qualifier.lower()]
        if named or problem.exact:
            candidates = named
        elif len(candidates) > 1:
            candidates = [t for t in candidates if _mentions(self.sql, t.name)]
        if not candidates:
            of = f" of table {problem.qualifier}" if problem.exact else ""
            raise _NotHealed(
                f"not healed: no migration adds a column {column}{of} (ALTER TABLE ... ADD "
                "COLUMN) to a table of the statement"
            )
        missing = [t for t in candidates if t.column(column) is None]
        if not missing:
            return _Target("column", candidates[0].name, column, None)
        if len(missing) > 1:
            names = ", ".join(sorted(t.name for t in missing))
            raise _NotHealed(f"not healed: column {column} is ambiguous (tables {names})")
        table = missing[0]
        plan = add_column_plan(table.name, column, conn, live, migrations)
        adding = migrations.column_statement(table.name, column)
        if plan is None or adding is None:
            raise _NotHealed(f"not healed: cannot plan column {table.name}.{column}")
        return _Target("column", table.name, column, plan, self.origin(adding.origin))

    def origin(self, origin: Origin) -> str:
        return f"{_relative(self.root, origin.path)}:{origin.line}"

    @staticmethod
    def describe(target: _Target) -> str:
        """The event's action: "create_table T from migrations/004_x.sql:3 (3 statements)"."""
        steps = len(target.plan.steps) if target.plan is not None else 0
        plural = "" if steps == 1 else "s"
        return f"{target.action} from {target.origin} ({steps} statement{plural})"

    def database(self) -> tuple[str, Path | None]:
        """Return a key for the database (its file, or the connection for a private one) and
        its file (None for :memory: and temporary databases)."""
        if self._database is None:
            file = ""
            for row in self.plain.execute("PRAGMA database_list").fetchall():
                if row[1] == "main":
                    file = os.fsdecode(row[2] or "")
            if file:
                path = Path(file).resolve()
                self._database = (str(path), path)
            else:
                self._database = (f"connection:{id(self.conn)}", None)
        return self._database

    # -- healing

    def heal(self, problem: _Problem, migrations: MigrationResult) -> _Target:
        """Heal one problem under the database's lock and record it; raise _NotHealed."""
        from contextlib import ExitStack

        from dbheal_lsp.fixes.lock import LockTimeout, database_lock

        key, path = self.database()
        with ExitStack() as stack:
            stack.enter_context(_shared.heal_lock(key))
            if path is not None:
                try:
                    stack.enter_context(database_lock(path, LOCK_TIMEOUT_SECONDS, root=self.root))
                except LockTimeout as exc:
                    raise _NotHealed(f"failed: {exc}") from None
                except OSError as exc:
                    # A read-only project: no lock file. SQLite's write lock and the check for
                    # the table inside the transaction still keep two healers apart.
                    _log().debug("dbheal: heal without the lock file: %s", exc)
            return self.heal_locked(problem, migrations, key)

    def heal_locked(self, problem: _Problem, migrations: MigrationResult, key: str) -> _Target:
        in_transaction = self.conn.in_transaction
        cursor = sqlite3.Cursor(self.conn)
        try:
            _cexec(cursor, "SAVEPOINT dbheal_runtime" if in_transaction else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _NotHealed(f"failed: cannot start the heal's transaction: {exc}") from None
        try:
            target = self.target(problem, migrations, self.live())
            if target.plan is None:
                self.finish(cursor, in_transaction, commit=True)
                self.record(
                    "none",
                    f"healed by another connection: the {target.kind} exists now; retried",
                    target.table,
                )
                return target
            refusal = self.recently_healed(key, target)
            if refusal is not None:
                self.finish(cursor, in_transaction, commit=False)
                raise _NotHealed(refusal, f"{target.action} refused")
            for step in target.plan.steps:
                _cexec(cursor, step.sql)
            self.verify(target)
        except _NotHealed:
            self.finish(cursor, in_transaction, commit=False)
            raise
        except Exception as exc:
            self.finish(cursor, in_transaction, commit=False)
            raise _NotHealed(f"failed: {exc}; nothing was changed", "none") from None
        try:
            self.finish(cursor, in_transaction, commit=True)
        except sqlite3.Error as exc:
            self.finish(cursor, in_transaction, commit=False)
            raise _NotHealed(f"failed: cannot commit: {exc}; nothing was changed") from None
        _shared.mark_healed(key, target.key)
        outcome = "healed"
        if in_transaction:
            outcome = (
                "healed inside the application's open transaction (a savepoint): it is kept "
                "when the application commits"
            )
        self.record(self.describe(target), outcome, target.table)
        return target

    def verify(self, target: _Target) -> None:
        """The heal must have made what was missing, or it is rolled back."""
        rows = self.plain.execute(
            "SELECT count(*) FROM pragma_table_xinfo(?1, 'main') WHERE ?2 IS NULL OR name = ?2 "
            "COLLATE NOCASE",
            (target.table, target.column),
        ).fetchone()
        if not rows or not rows[0]:
            raise _NotHealed(f"failed: the migration's statements did not create {target.key}")

    def finish(self, cursor: sqlite3.Cursor, in_transaction: bool, *, commit: bool) -> None:
        """End the heal's transaction (or savepoint in the application's transaction). A
        commit that fails raises; a rollback that fails is logged (there is nothing left to
        undo then)."""
        try:
            if in_transaction:
                if not self.conn.in_transaction:
                    _log().error("dbheal: SQLite rolled back the application's transaction")
                    return
                if not commit:
                    _cexec(cursor, "ROLLBACK TO dbheal_runtime")
                _cexec(cursor, "RELEASE dbheal_runtime")
            elif self.conn.in_transaction:
                _cexec(cursor, "COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error:
            if commit:
                raise
            _log().exception("dbheal: cannot roll the heal back")

    def recently_healed(self, key: str, target: _Target) -> str | None:
        window = HEAL_WINDOW_SECONDS
        at = _shared.healed_at(key, target.key)
        if at is not None and time.monotonic() - at < window:
            ago = time.monotonic() - at
            return (
                f"not healed: healed {ago:.0f} s ago in this process and missing again; loop "
                f"prevention (window {window:g} s)"
            )
        if key.startswith("connection:"):
            return None  # a private database: no other process can have healed it
        when = _healed_in_state(self.root, target, window)
        if when is not None:
            return (
                f"not healed: healed at {when} (by another process) and missing again; loop "
                f"prevention (window {window:g} s)"
            )
        return None

    def rest_of_script(self) -> str:
        """Return the script from the statement that failed (the ones before it ran).

        That statement is the first one that SQLite now rejects with the same message (found
        with EXPLAIN, which prepares without running). A script that failed inside a
        transaction of its own is not run again: executescript would commit that first.
        """
        from dbheal_lsp.analysis.migration_files import split_statements

        statements = [sql for _, sql in split_statements(self.sql)]
        failed = None
        for n, statement in enumerate(statements):
            if statement.lstrip()[:6].upper() == "PRAGMA":
                continue  # some pragmas act while they are prepared
            try:
                self.plain.execute("EXPLAIN " + statement)
            except sqlite3.Error as exc:
                if str(exc) == self.message:
                    failed = n
                    break
        if failed is None:
            raise _NotHealed("not healed: cannot tell which statement of the script failed")
        if failed and self.conn.in_transaction:
            raise _NotHealed(
                "not healed: the script failed inside a transaction of its own, which "
                "running the rest again would commit"
            )
        if failed == 0:
            return self.sql
        return ";\n".join(statements[failed:]) + ";"


def _check_defined(problem: _Problem, migrations: MigrationResult) -> None:
    """Raise _NotHealed when no migration defines what is missing, before any lock is taken
    or transaction begun (the failing query of a table nobody migrates costs no write lock)."""
    if problem.kind == "table":
        if migrations.schema.table(problem.name) is None:
            raise _NotHealed(f"not healed: no migration defines table {problem.name}")
        return
    column = problem.name.lower()
    if not any(
        c == column and s.kind == "add_column" for (_, c), s in migrations.column_statements.items()
    ):
        of = f" of table {problem.qualifier}" if problem.exact else ""
        raise _NotHealed(
            f"not healed: no migration adds a column {problem.name}{of} (ALTER TABLE ... ADD "
            "COLUMN) to a table of the statement"
        )


def _mentions(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", sql, re.IGNORECASE) is not None


def _healed_in_state(root: Path, target: _Target, window: float) -> str | None:
    """Return when the state file last recorded a heal of `target` within `window` seconds."""
    from datetime import datetime, timedelta, timezone
    from urllib.parse import quote

    path = root / ".dbheal" / "state.sqlite"
    if not path.is_file():
        return None
    since = (datetime.now(timezone.utc) - timedelta(seconds=window)).isoformat(
        timespec="microseconds"
    )
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute(
            "SELECT max(time) FROM events WHERE time >= ? AND outcome LIKE 'healed%' "
            "AND (action = ? OR action LIKE ? ESCAPE '\\')",
            (since, target.action, _like_prefix(target.action + " ")),
        ).fetchone()
    except sqlite3.Error as exc:
        _log().debug("dbheal: cannot read the heals of %s: %s", path, exc)
        return None
    finally:
        conn.close()
    return str(row[0]) if row and row[0] else None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

"""The healing classes: HealingCursor, HealingConnection and HealingProxy, and the classes
combined with an application's own cursor and connection classes.

Every wrapped method has the same shape: sqlite3's own method inside a `try`, which is all the
successful path runs (one Python frame and a `try` around sqlite3's C method); on an
OperationalError, `_heal_call` heals (or says no, and the error is raised again by the
method's bare `raise`, so its traceback is the original one); then the one retry it returns
runs after the `except` block.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from dbheal_lsp.runtime.incident import (
    EXECUTE,
    EXECUTEMANY,
    EXECUTESCRIPT,
    Incident,
    record_failed_retry,
)
from dbheal_lsp.runtime.missing import problem_of
from dbheal_lsp.runtime.modes import Settings, resolve_mode
from dbheal_lsp.runtime.process import log, state

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "HealingConnection",
    "HealingCursor",
    "HealingProxy",
    "connection_class",
]

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


def _heal_call(
    owner: HealingCursor | HealingConnection | HealingProxy,
    exc: sqlite3.OperationalError,
    how: str,
    sql: object,
    parameters: object,
    call: Callable[..., _T],
    *bound: object,
) -> Callable[[], _T] | None:
    """The error path of every wrapped method of `owner`: heal what `exc` says is missing and
    return the one retry, or None for the method to raise `exc` again.

    The retry is `call(*bound, again, parameters)` (`call(*bound, again)` for a script), where
    `again` is the SQL to run again: the statement, or the rest of a script. The method runs it
    after its `except` block, so that the retry's own error has no context; if it fails, that
    is recorded and its error raised.
    """
    conn, settings = _connection_and_settings(owner)
    again = _on_error(conn, settings, exc, how, sql, parameters)
    if again is None:
        return None
    rerun = again
    arguments = (*bound, rerun) if how == EXECUTESCRIPT else (*bound, rerun, parameters)

    def retry() -> _T:
        try:
            return call(*arguments)
        except _OperationalError as error:
            record_failed_retry(settings, error, rerun)
            raise

    return retry


def _healed(
    owner: HealingCursor | HealingConnection | HealingProxy,
    how: str,
    sql: Any,
    parameters: Any,
    call: Callable[..., _T],
    *bound: object,
) -> _T:
    """Run `call(*bound, sql, parameters)` (`call(*bound, sql)` for a script), the body of every
    wrapped method: on an OperationalError, heal what it says is missing and run the one retry.

    The retry runs after the `except` block, so that its own error has no context; when nothing
    is healed the original error is raised again, unchanged.
    """
    arguments = (*bound, sql) if how == EXECUTESCRIPT else (*bound, sql, parameters)
    try:
        return call(*arguments)
    except _OperationalError as exc:
        retry = _heal_call(owner, exc, how, sql, parameters, call, *bound)
        if retry is None:
            raise
    return retry()


def _connection_and_settings(
    owner: HealingCursor | HealingConnection | HealingProxy,
) -> tuple[sqlite3.Connection, Settings | None]:
    """The connection a wrapped method runs on, and its settings (None when the connection was
    opened by sqlite3.connect with factory=HealingConnection: found at the first error)."""
    if isinstance(owner, HealingCursor):
        return owner.connection, _cursor_settings(owner)
    if isinstance(owner, HealingProxy):
        return owner.__wrapped__, owner._dbheal
    return owner, owner._dbheal


def _on_error(
    conn: sqlite3.Connection,
    settings: Settings | None,
    exc: sqlite3.OperationalError,
    how: str,
    sql: object,
    parameters: object,
) -> str | None:
    """Handle the OperationalError `exc` of a call; return the SQL to run again once it is
    healed (the statement, or the rest of a script), or None to raise `exc` again.

    Never raises: whatever goes wrong in here is logged, and the caller raises `exc`.
    """
    if exc in state.seen or (settings is not None and settings.mode == "off"):
        return None
    state.seen.add(exc)
    problem = problem_of(str(exc))
    local = state.local
    if problem is None or not isinstance(sql, str) or getattr(local, "busy", False):
        return None
    local.busy = True
    try:
        if settings is None:  # sqlite3.connect(..., factory=HealingConnection): found now
            settings = Settings(resolve_mode(None))
            if isinstance(conn, HealingConnection):
                conn._dbheal = settings
            if settings.mode == "off":
                return None
        return Incident(conn, settings, exc, how, sql, parameters).handle(problem)
    except Exception:
        log().exception("dbheal: the runtime wrapper failed; the original error is raised")
        return None
    finally:
        local.busy = False


class HealingCursor(sqlite3.Cursor):
    """A sqlite3 cursor whose execute, executemany and executescript heal (see the module)."""

    # No __slots__: an application's cursor class with slots of its own can then be combined
    # with it. Set by a proxy's cursor(); else the connection's settings apply.
    _dbheal: Settings | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        """sqlite3.Cursor.execute; a missing table or column is healed and the call retried."""
        _healed(self, EXECUTE, sql, parameters, _cexec, self)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Self:
        """sqlite3.Cursor.executemany; healed and retried like execute."""
        _healed(self, EXECUTEMANY, sql, seq_of_parameters, _cexecmany, self)
        return self

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """sqlite3.Cursor.executescript; after a heal, the script is run again from the
        statement that failed (the statements before it ran already)."""
        return _healed(self, EXECUTESCRIPT, sql_script, None, _cexecscript, self)


class _ComposedCursor(HealingCursor):
    """HealingCursor's methods for a class combined with the application's cursor class: they
    call the application's class (next in the MRO), not sqlite3's C methods."""

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        parent = cast("Self", super(HealingCursor, self))
        return _healed(self, EXECUTE, sql, parameters, parent.execute)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Self:
        parent = cast("Self", super(HealingCursor, self))
        return _healed(self, EXECUTEMANY, sql, seq_of_parameters, parent.executemany)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        parent = cast("Self", super(HealingCursor, self))
        return _healed(self, EXECUTESCRIPT, sql_script, None, parent.executescript)


class HealingConnection(sqlite3.Connection):
    """A sqlite3 connection whose execute, executemany, executescript and cursors heal.

    `connect` returns one; `sqlite3.connect(path, factory=HealingConnection)` works too (its
    settings then come from the environment when the first error happens).
    """

    _dbheal: Settings | None = None

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
        return _healed(self, EXECUTE, sql, parameters, _conn_exec, self)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """sqlite3.Connection.executemany; healed and retried like execute."""
        return _healed(self, EXECUTEMANY, sql, parameters, _conn_execmany, self)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """sqlite3.Connection.executescript; after a heal, the script is run again from the
        statement that failed (the statements before it ran already)."""
        return _healed(self, EXECUTESCRIPT, sql_script, None, _conn_execscript, self)


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
        return _healed(self, EXECUTE, sql, parameters, parent.execute)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        parent = cast("sqlite3.Connection", super(HealingConnection, self))
        return _healed(self, EXECUTEMANY, sql, parameters, parent.executemany)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        parent = cast("sqlite3.Connection", super(HealingConnection, self))
        return _healed(self, EXECUTESCRIPT, sql_script, None, parent.executescript)


def _combined(base: type, mixin: type, user: type) -> Any:
    """Return `user` if it already heals, else the class made of `mixin` and `user` (cached)."""
    if issubclass(user, base):
        return user
    with state.class_lock:
        made = state.composed.get(user)
        if made is None:
            made = type(f"Healing{user.__name__}", (mixin, user), {"__module__": __name__})
            state.composed[user] = made
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
            log().debug("dbheal: cursors of %r are not healed: %s", factory, exc)
    return factory


def connection_class(factory: object) -> type[HealingConnection]:
    """Return the connection class `connect` opens for sqlite3's `factory` argument:
    HealingConnection, or the factory's class combined with it; raise TypeError for a factory
    that is not a sqlite3.Connection subclass."""
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


def _cursor_settings(cursor: sqlite3.Cursor) -> Settings | None:
    settings = getattr(cursor, "_dbheal", None)
    if settings is None:
        settings = getattr(cursor.connection, "_dbheal", None)
    return cast("Settings | None", settings)


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
    _dbheal: Settings

    def __init__(self, conn: sqlite3.Connection, settings: Settings) -> None:
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
        return _healed(self, EXECUTE, sql, parameters, conn.execute)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """The connection's executemany; healed and retried like execute."""
        conn = self.__wrapped__
        return _healed(self, EXECUTEMANY, sql, parameters, conn.executemany)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """The connection's executescript; run again from the statement that failed."""
        conn = self.__wrapped__
        return _healed(self, EXECUTESCRIPT, sql_script, None, conn.executescript)

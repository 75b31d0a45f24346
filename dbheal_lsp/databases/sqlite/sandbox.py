"""The one way analysis runs a repository's SQL: an in-memory SQLite that may only build a schema.

Migrations, DDL found in code and the schema copy the checks prepare statements against all come
from a repository dbheal did not write, so they run in a `Sandbox` (made by `open_sandbox`):

- an authorizer allows what building a schema needs (CREATE/ALTER/DROP of tables, indexes, views,
  triggers and virtual tables; reading; the INSERT/UPDATE/DELETE a migration seeds data with, into
  `main` or `temp`; transactions and savepoints) and denies ATTACH, DETACH, ANALYZE, every PRAGMA
  outside a read-only allow-list (a few behaviour switches when the caller allows them) and
  `load_extension()`. Writes to `sqlite_master` are refused by SQLite itself: only
  `writable_schema` would allow them, and it is never allowed;
- VACUUM is refused by its first keyword before SQLite sees it (VACUUM INTO writes a file);
- a budget: a deadline per statement (a progress handler), a size cap on the in-memory database
  (`max_page_count`, main and temp) and a cap on the length of any one value
  (`SQLITE_LIMIT_LENGTH`, Python 3.11+).

A denial raises `Refused`, a breach of the budget `BudgetExceeded`; the sandbox stays usable.
"""

from __future__ import annotations

import math
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# first_keyword is re-exported: the back end's modules read a statement's kind from here.
from dbheal_lsp.analysis.sqllex import first_keyword as first_keyword
from dbheal_lsp.analysis.sqllex import keyword_at

#: Seconds one statement may run before it is stopped.
DEFAULT_DEADLINE = 2.0
#: Bytes the in-memory database (main, and temp) may grow to.
DEFAULT_SIZE_CAP = 256 * 1024 * 1024
#: Bytes one string or blob value may have (SQLITE_LIMIT_LENGTH).
DEFAULT_MAX_LENGTH = 16 * 1024 * 1024
# The progress handler is a Python call: every this many virtual-machine steps keeps it cheap.
_PROGRESS_STEPS = 10_000

# Pragmas that only read; they may take a table or index name (or a count) as their argument.
_READING_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        # Checks that only read (a fix's dry run verifies with them); the argument is a table
        # name or a row count.
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)
# Pragmas read without an argument; with one, most of them would be writes.
_READ_PRAGMAS = _READING_PRAGMAS | frozenset(
    {
        "schema_version",
        "user_version",
        "application_id",
        "data_version",  # FTS5 reads it while creating its tables
        "encoding",
        "foreign_keys",
        "page_size",
        "page_count",
        "freelist_count",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "database_list",
        "compile_options",
    }
)
#: Connection-local switches that change how a migration's statements behave (foreign keys
#: enforced, ALTER's legacy renaming) and touch no file: `open_sandbox(settings=...)` may allow them.
BEHAVIOUR_PRAGMAS = frozenset(
    {"foreign_keys", "defer_foreign_keys", "legacy_alter_table", "recursive_triggers"}
)
_SCHEMA_TABLE_WRITE = re.compile(r"table (sqlite_\w+) may not be modified")
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
_WRITABLE_DATABASES = frozenset({"main", "temp"})

_OK = sqlite3.SQLITE_OK
_DENY = sqlite3.SQLITE_DENY
_ALLOWED_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_INDEX,
        sqlite3.SQLITE_CREATE_TEMP_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
        sqlite3.SQLITE_CREATE_TEMP_VIEW,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_CREATE_VTABLE,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_DROP_TEMP_INDEX,
        sqlite3.SQLITE_DROP_TEMP_TABLE,
        sqlite3.SQLITE_DROP_TEMP_TRIGGER,
        sqlite3.SQLITE_DROP_TEMP_VIEW,
        sqlite3.SQLITE_DROP_TRIGGER,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_DROP_VTABLE,
        sqlite3.SQLITE_ALTER_TABLE,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_RECURSIVE,
        sqlite3.SQLITE_TRANSACTION,
        sqlite3.SQLITE_SAVEPOINT,
        # CREATE INDEX asks for it; rebuilding an index of an in-memory table touches no file.
        sqlite3.SQLITE_REINDEX,
    }
)
_WRITES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})


class SandboxError(sqlite3.DatabaseError):
    """A statement the sandbox did not run to its end; `message` is one line for the user.

    A subclass of `sqlite3.DatabaseError`, so code that treats any SQLite failure as "this
    statement failed" keeps working.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(SandboxError):
    """The statement does something analysis never does (ATTACH, VACUUM, a PRAGMA write...)."""


class BudgetExceeded(SandboxError):
    """The statement ran past the deadline, or the database or a value grew past its cap."""


@dataclass(frozen=True)
class Budget:
    """The limits of a sandbox: seconds per statement, bytes of database, bytes per value."""

    deadline: float = DEFAULT_DEADLINE
    size_cap: int = DEFAULT_SIZE_CAP
    max_length: int = DEFAULT_MAX_LENGTH


def statement_keyword(sql: str) -> str:
    """Return the keyword that says what `sql` does: the first one, or the one after EXPLAIN
    (and QUERY PLAN)."""
    keyword, end = keyword_at(sql)
    if keyword != "EXPLAIN":
        return keyword
    keyword, after = keyword_at(sql, end)
    if keyword == "QUERY":
        plan, after_plan = keyword_at(sql, after)
        if plan == "PLAN":
            keyword, after = keyword_at(sql, after_plan)
    return keyword


def _size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s"


class Sandbox(sqlite3.Connection):
    """An in-memory SQLite connection that runs repository SQL under an authorizer and a budget.

    Made by `open_sandbox`. It is a `sqlite3.Connection`, so `schema_from_connection` and any
    reader take it as it is, and the authorizer and the size caps hold for everything run on
    it. `run` executes one statement under the deadline as well (and refuses VACUUM by its
    keyword), `explain` prepares one behind EXPLAIN (nothing runs), `query` runs a read and
    returns its rows. Calls of these three are serialized, so a sandbox may be shared between
    threads (made with `check_same_thread=False`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = Budget()
        self.settings: frozenset[str] = frozenset()
        self._lock = threading.RLock()
        self._deadline = math.inf
        self._denied = ""  # why the authorizer last said no

    def _configure(self, budget: Budget, settings: frozenset[str]) -> None:
        self.budget = budget
        # Only switches from BEHAVIOUR_PRAGMAS may ever be set, whatever the caller asks.
        self.settings = settings & BEHAVIOUR_PRAGMAS
        # Limits first: once the authorizer is on, these pragma writes would be refused too.
        page_size = int(self.execute("PRAGMA page_size").fetchone()[0])
        pages = max(budget.size_cap // page_size, 2)
        self.execute(f"PRAGMA main.max_page_count = {pages}")
        self.execute(f"PRAGMA temp.max_page_count = {pages}")
        if sys.version_info >= (3, 11):  # setlimit is new in 3.11; 3.10 has no value cap
            self.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, budget.max_length)
            # No ATTACH can succeed even if the authorizer were bypassed (VACUUM INTO attaches).
            self.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        # Extension loading is off unless enabled (and this Python may lack the method);
        # the authorizer refuses load_extension() besides.
        self.set_authorizer(self._authorize)
        self.set_progress_handler(self._progress, _PROGRESS_STEPS)

    @property
    def connection(self) -> sqlite3.Connection:
        """Return the connection to read the schema from: the sandbox itself."""
        return self

    # --- the authorizer and the deadline ---------------------------------------------------

    def _authorize(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        database: str | None,
        _source: str | None,
    ) -> int:
        reason = self._reason(action, arg1, arg2, database)
        if reason is None:
            return _OK
        self._denied = reason
        return _DENY

    def _reason(
        self, action: int, arg1: str | None, arg2: str | None, database: str | None
    ) -> str | None:
        """Return why `action` is denied, or None when it is allowed."""
        if action in _ALLOWED_ACTIONS:
            return None
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in _READING_PRAGMAS or (name in _READ_PRAGMAS and arg2 is None):
                return None
            if name in self.settings:
                return None
            return f"PRAGMA {name}" + (" with a value" if arg2 is not None else "")
        if action in _WRITES:
            if database is not None and database.lower() not in _WRITABLE_DATABASES:
                return f"writing to database {database}"
            # sqlite_master is written by every CREATE (and by a virtual table's set-up) under
            # these same actions, so SQLite's own rule guards it: no statement may modify it
            # unless writable_schema is on, and no PRAGMA write is ever allowed here.
            return None
        if action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            return f"{name}()" if name in _DENIED_FUNCTIONS else None
        if action == sqlite3.SQLITE_ATTACH:
            return "ATTACH"
        if action == sqlite3.SQLITE_DETACH:
            return "DETACH"
        if action == sqlite3.SQLITE_ANALYZE:
            return "ANALYZE"
        return f"action {action}"

    def _progress(self) -> int:
        # A non-zero return interrupts the statement ("interrupted").
        return 1 if time.monotonic() > self._deadline else 0

    # --- running ----------------------------------------------------------------------------

    def run(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """Run one statement under the authorizer and the budget; return its rows.

        Raises `Refused` (VACUUM, or something the authorizer denies), `BudgetExceeded`, or
        the `sqlite3.Error` SQLite raised.
        """
        return self._execute(sql, parameters, fetch=True)

    def explain(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> None:
        """Prepare `sql` behind EXPLAIN: SQLite judges it against the schema and runs nothing.

        The authorizer is asked at prepare time, so `EXPLAIN PRAGMA writable_schema = 1` (which
        SQLite would apply while compiling) is refused. Raises like `run`; a statement that needs
        parameters raises `sqlite3.ProgrammingError` after preparing, as `execute` does.
        """
        body = sql.strip()
        text = body if first_keyword(body) == "EXPLAIN" else "EXPLAIN " + sql
        self._execute(text, parameters, fetch=False)

    def query(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """Run a read (EXPLAIN QUERY PLAN, a pragma function) and return its rows."""
        return self._execute(sql, parameters, fetch=True)

    def _execute(
        self, sql: str, parameters: Sequence[Any] | dict[str, Any], *, fetch: bool
    ) -> list[Any]:
        keyword = statement_keyword(sql)
        if keyword == "VACUUM":
            # VACUUM INTO writes a file wherever it is told; it never defines a schema.
            raise Refused("not run: VACUUM")
        with self._lock:
            self._denied = ""
            self._deadline = time.monotonic() + self.budget.deadline
            try:
                cursor = self.execute(sql, parameters)
                return cursor.fetchall() if fetch else []
            except sqlite3.Error as exc:
                raise self._translate(exc) from None
            finally:
                self._deadline = math.inf

    def _translate(self, exc: sqlite3.Error) -> sqlite3.Error:
        """Return the exception to raise for `exc`: ours for denials and breaches."""
        text = str(exc).lower()
        if self._denied and ("not authorized" in text or "authorization denied" in text):
            return Refused(f"not run: {self._denied}")
        if match := _SCHEMA_TABLE_WRITE.search(text):
            return Refused(f"not run: writing {match.group(1)}")
        if text == "interrupted":
            return BudgetExceeded(
                f"stopped after {_seconds(self.budget.deadline)} (dbheal's limit for one "
                "statement while it builds the schema)"
            )
        if "database or disk is full" in text:
            return BudgetExceeded(
                f"stopped: the schema copy grew past {_size(self.budget.size_cap)}"
            )
        if "string or blob too big" in text:
            return BudgetExceeded(f"stopped: a value grew past {_size(self.budget.max_length)}")
        return exc


def open_sandbox(
    budget: Budget | None = None,
    *,
    settings: frozenset[str] = frozenset(),
    check_same_thread: bool = True,
) -> Sandbox:
    """Return a new, empty sandbox with `budget` (the defaults when None).

    `settings` names the switches of `BEHAVIOUR_PRAGMAS` its statements may set (the migration
    replay allows them; the checks' schema copy does not). The caller closes it.
    """
    box = sqlite3.connect(
        ":memory:", isolation_level=None, check_same_thread=check_same_thread, factory=Sandbox
    )
    assert isinstance(box, Sandbox)  # narrowing for mypy: the factory made it
    box._configure(budget or Budget(), settings)
    return box

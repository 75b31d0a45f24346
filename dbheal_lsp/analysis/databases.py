"""Which database each statement runs on, and the checker that judges it (issue 11, pattern 5).

The extractor learns which file a connection opens (`Statement.database`); the configuration
maps modules and receivers it cannot see (`[tool.dbheal.databases]`). Here that name becomes a
checker:

- None, or the main database's file: the project's checker, as before;
- another SQLite file inside the project: its own schema, read from the file opened read-only
  exactly as the main one is (the back end's `Database.other`: for SQLite a regular file opened
  `mode=ro`), never a file
  whose real path (links followed) is outside the project;
- `:memory:`: the schema that the DDL before it in the same function builds;
- a file opened from a path the code does not spell, in a function that opens several (a
  converter from an old database into the app's): the main database when any statement sent
  through that connection names one of its tables, else another database whose schema cannot
  be seen;
- anything else (a file made at run time, one outside the project, one that is not SQLite): no
  schema at all, so only what holds whatever the schema is (syntax, injection) is reported —
  never a MISSING_TABLE or MISSING_COLUMN guessed against the main database.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.statement import RUN_TIME
from dbheal_lsp.config import Config
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import Database, SchemaError
from dbheal_lsp.discovery import database_candidates
from dbheal_lsp.files import is_inside
from dbheal_lsp.model import Issue, Origin

if TYPE_CHECKING:
    from dbheal_lsp.analysis.checker import CheckSettings, StatementChecker
    from dbheal_lsp.analysis.statement import Statement

MEMORY = ":memory:"
_DDL_WORDS = ("CREATE", "ALTER", "DROP")
# The tables a statement names, read from its text with strings and comments blanked.
_TABLE_NAMES = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|table_info|table_xinfo)\s*\(?\s*[\"`\[]?(\w+)",
    re.IGNORECASE,
)


# What reading another database's schema may raise: it is then treated as unseen.
_UNREADABLE: tuple[type[Exception], ...] = (SchemaError, *DatabaseError, OSError)


@dataclass(frozen=True)
class _Main:
    """The statement runs on the project's main database."""


MAIN = _Main()


class OtherDatabases:
    """The project's databases besides the main one: where they are, their schemas, checkers.

    One per Project; safe to share between threads (the language server checks from several).
    """

    def __init__(self, config: Config, database: Database) -> None:
        self.database = database  # the main one: it opens the others and makes their judges
        self.root = config.root
        self.main = config.database
        self._main_real = os.path.realpath(config.database) if config.database else None
        self.files = tuple((glob, m.path) for m in config.databases for glob in m.files)
        self.configured = tuple(m.path for m in config.databases if m.path != MEMORY)
        self._lock = threading.Lock()
        self._live: dict[str, Database] = {}
        self._checkers: dict[str, tuple[str, StatementChecker]] = {}
        self._blind: StatementChecker | None = None

    def database_of_file(self, path: str) -> str | None:
        """Return the database [tool.dbheal.databases] maps the file `path` to, if any."""
        if not self.files:
            return None
        rel = Path(path)
        if rel.is_absolute():
            try:
                rel = rel.resolve().relative_to(self.root.resolve())
            except ValueError:
                return None
        text = rel.as_posix()
        return next((db for glob, db in self.files if fnmatch(text, glob)), None)

    def target(self, database: str) -> _Main | Path | None:
        """Return where `database` (as the code names it) is: MAIN, a SQLite file of the
        project, or None when its schema cannot be seen."""
        path = Path(database).expanduser()
        if not path.is_absolute():
            path = self.root / path  # the application is run from its project root
        if self._main_real is not None and os.path.realpath(path) == self._main_real:
            return MAIN
        if os.path.lexists(path):
            # Only a regular file whose real path is inside the project: never a link out of it.
            inside = is_inside(path, self.root)
            return path if inside and os.path.isfile(path) else None
        if self.main is None or path.name == Path(self.main).name:
            # Not in the tree: without a live database the migrations describe the application's
            # one; with one, the same file name is the same database run from elsewhere.
            return MAIN
        return None  # made at run time: nothing to check its names against

    def checker(self, path: Path, settings: CheckSettings) -> StatementChecker | None:
        """Return a checker against the schema of the file `path` (None if it cannot be read)."""
        key = str(path)
        with self._lock:
            live = self._live.get(key)
            if live is None:
                live = self._live[key] = self.database.other(path)
            try:
                schema = live.live_schema()
            except _UNREADABLE:
                return None
            cached = self._checkers.get(key)
            if cached is not None and cached[0] == schema.version:
                return cached[1]
            checker = _checker(self.database, schema, settings)
            self._checkers[key] = (schema.version, checker)
            return checker

    def blind(self, settings: CheckSettings) -> StatementChecker:
        """Return the checker of a database whose schema cannot be seen: an empty schema, so
        only what needs no schema is reported."""
        with self._lock:
            if self._blind is None:
                self._blind = _checker(self.database, Schema.empty(), settings)
            return self._blind

    def key(self) -> str:
        """Return a key that changes with the schema of any other database the project has:
        the configured ones and the SQLite files where discovery looks (root, db/, data/,
        instance/). A database elsewhere that only the code names is not part of it."""
        digest = hashlib.blake2b(digest_size=16)
        paths = {str(p) for p in database_candidates(self.root)}
        paths.update(str(self.root / p) for p in self.configured)
        for text in sorted(paths):
            target = self.target(text)
            if not isinstance(target, Path):
                continue
            with self._lock:
                live = self._live.get(str(target))
                if live is None:
                    live = self._live[str(target)] = self.database.other(target)
                try:
                    version = live.live_schema().version
                except _UNREADABLE:
                    version = "unreadable"
            digest.update(f"{text}\x00{version}\x00".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def router(self, main: StatementChecker, path: str) -> DatabaseRouter:
        """Return the checker of one file's statements, each against its own database."""
        return DatabaseRouter(self, main, self.database_of_file(path))

    def close(self) -> None:
        """Close the read-only connections to the other databases."""
        with self._lock:
            for live in self._live.values():
                live.close()
            self._live.clear()
            self._checkers.clear()


def _elsewhere(issues: list[Issue], database: str) -> list[Issue]:
    """Say which database an issue was found against, and keep schema fixes off it: `fix`,
    `heal` and the editor's actions change the main database only, and a table of the same
    name there is not this one."""
    return [replace(i, message=f"{i.message} (in {database})", table=None) for i in issues]


def _checker(database: Database, schema: Schema, settings: CheckSettings) -> StatementChecker:
    from dbheal_lsp.analysis.checker import StatementChecker

    return StatementChecker(schema, None, Drift(), database.judge(schema), settings)


@dataclass
class DatabaseRouter:
    """Checks one file's statements, each against the database its connection opens."""

    owner: OtherDatabases
    main: StatementChecker
    file_database: str | None  # what [tool.dbheal.databases] maps the whole file to
    # DDL of in-memory databases seen so far, per function: it makes their schema.
    _memory: dict[str, list[tuple[str, Origin]]] = field(default_factory=dict)
    _memory_checkers: dict[tuple[str, ...], StatementChecker] = field(default_factory=dict)
    # The checker of each database named in this file: its schema is read once per file.
    _checkers: dict[str, StatementChecker | None] = field(default_factory=dict)
    # The databases opened at run time that are not the main one (see `expect`).
    _run_time_others: set[tuple[str, str]] = field(default_factory=set)

    def expect(self, statements: Iterable[Statement]) -> None:
        """Learn, from all the statements about to be checked, which connections opened at
        run time are not the main database: none of their statements names one of its tables,
        and some name a table it lacks (`SELECT * FROM channels` in a converter from an old
        schema)."""
        named: dict[tuple[str, str], list[bool]] = {}
        for statement in statements:
            database = statement.database
            if database is None or not database.startswith(RUN_TIME):
                continue
            tables = _TABLE_NAMES.findall(masked(statement.literal_text))
            known = [self.main.schema.table(t) is not None for t in tables]
            named.setdefault((statement.function, database), []).extend(known)
        self._run_time_others = {key for key, known in named.items() if known and not any(known)}

    def check(self, statement: Statement, path: str) -> list[Issue]:
        """Return the issues of `statement` against its database (see the module docstring)."""
        database = statement.database or self.file_database
        if database is not None and database.startswith(RUN_TIME):
            if (statement.function, database) not in self._run_time_others:
                return self.main.check(statement, path)
            blind = self.owner.blind(self.main.settings)
            opened = database.removeprefix(RUN_TIME)
            return _elsewhere(blind.check(statement, path), f"the database opened at {opened}")
        if database is None:
            return self.main.check(statement, path)
        if database == MEMORY:
            return _elsewhere(self._check_in_memory(statement, path), "an in-memory database")
        if database not in self._checkers:
            self._checkers[database] = self._checker_of(database)
        checker = self._checkers[database]
        if checker is None:
            return self.main.check(statement, path)
        return _elsewhere(checker.check(statement, path), database)

    def _checker_of(self, database: str) -> StatementChecker | None:
        """The checker of `database` (None: the main one's)."""
        target = self.owner.target(database)
        if target is MAIN:
            return None
        checker = None
        if isinstance(target, Path):
            checker = self.owner.checker(target, self.main.settings)
        return checker or self.owner.blind(self.main.settings)

    def _check_in_memory(self, statement: Statement, path: str) -> list[Issue]:
        ddl = self._memory.setdefault(statement.function, [])
        key = tuple(text for text, _ in ddl)
        checker = self._memory_checkers.get(key)
        if checker is None:
            database = self.owner.database
            schema = database.schema_from_ddl(ddl) if ddl else Schema.empty()
            checker = self._memory_checkers[key] = _checker(database, schema, self.main.settings)
        issues = checker.check(statement, path)
        text = statement.literal_text
        if text.lstrip().upper().startswith(_DDL_WORDS) or statement.is_script:
            ddl.append((text, Origin(path, statement.span.line)))
        return issues

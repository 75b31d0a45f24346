"""Replaying migrations (or DDL found in code) into a sandboxed in-memory SQLite database.

Only schema definitions and seed data run, in the sandbox, on a budget; the replay remembers
which file and line made each table, column and index. `MigrationCache` (migration_cache.py)
replays a folder again only when its files change.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from dbheal_lsp.analysis.ddl import Alter, column_offsets, created_name, parse_alter, statement_head
from dbheal_lsp.analysis.migration_files import (
    migration_files,
    read_script,
    split_statements,
    up_part,
)
from dbheal_lsp.analysis.migrations import (
    MigrationError,
    MigrationResult,
    MigrationStatement,
    StatementKind,
)
from dbheal_lsp.analysis.schema import OriginKey, Schema
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.sandbox import (
    BEHAVIOUR_PRAGMAS,
    Budget,
    BudgetExceeded,
    Refused,
    first_keyword,
    open_sandbox,
)
from dbheal_lsp.model import Origin

# The sandbox refuses these (but a few PRAGMA switches, see BEHAVIOUR_PRAGMAS); they never
# define the schema (and ATTACH and VACUUM INTO would create files), so a migration that has
# them is replayed without them and without a finding.
_NOT_REPLAYED = frozenset({"ATTACH", "DETACH", "VACUUM", "PRAGMA", "ANALYZE"})
#: Seconds a whole replay (all migrations, or all DDL found in code) may take; past it the rest
#: is not replayed and one error says so.
DEFAULT_REPLAY_TOTAL = 60.0
_DEFINITIONS = frozenset({"CREATE", "ALTER", "DROP"})


class _Object(NamedTuple):
    # A row of sqlite_master; a tuple because a snapshot is taken after every schema change.
    type: str
    name: str
    table: str
    sql: str | None


class _Replay:
    """One in-memory database and what is known about where its objects came from."""

    def __init__(self, budget: Budget | None = None) -> None:
        # Repository SQL runs only in the sandbox: schema definitions and seed data, on a budget.
        self.box = open_sandbox(budget, settings=BEHAVIOUR_PRAGMAS)
        self.conn = self.box.connection
        self.version = 0
        self.max_rowid = -1
        self.objects: dict[str, _Object] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.table_origins: dict[str, Origin] = {}
        self.column_origins: dict[tuple[str, str], Origin] = {}
        self.index_origins: dict[str, Origin] = {}
        self.table_statements: dict[str, list[MigrationStatement]] = {}
        self.column_statements: dict[tuple[str, str], MigrationStatement] = {}
        self.object_statements: dict[str, MigrationStatement] = {}
        self.statements: list[MigrationStatement] = []

    def run(self, sql: str, origin: Origin) -> str | None:
        """Run one statement and record its effects; return SQLite's error message if it failed."""
        first = first_keyword(sql)
        in_transaction = self.conn.in_transaction
        try:
            self.box.run(sql)
        except Refused as exc:
            if first not in _NOT_REPLAYED:
                return exc.message
        except BudgetExceeded as exc:
            # An interrupted write inside BEGIN ... COMMIT rolls the whole transaction back.
            if in_transaction and not self.conn.in_transaction:
                self._resync()
            return exc.message
        except (sqlite3.Error, sqlite3.Warning) as exc:
            if in_transaction and not self.conn.in_transaction:
                self._resync()
            return str(exc)
        version = int(self.conn.execute("PRAGMA schema_version").fetchone()[0])
        if version == self.version:
            alter = parse_alter(sql) if first == "ALTER" else None
            table = alter.table if alter is not None else None
            self._record(MigrationStatement(origin.path, origin.line, sql, "other", table))
        else:
            self.version = version
            self._apply_changes(sql, origin)
        return None

    def finish_file(self) -> str | None:
        """Commit what a file left in an open transaction; return the error if that failed."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self.conn.execute("ROLLBACK")
                self._resync()
                return f"transaction left open could not commit, rolled back: {exc}"
        return None

    def _resync(self) -> None:
        """Forget what a rolled-back transaction had created: it is gone again."""
        old = self.objects
        self.max_rowid = -1
        self.objects = self._read_objects()
        for key, obj in old.items():
            if key not in self.objects:
                self._forget(obj)
        self.version = int(self.conn.execute("PRAGMA schema_version").fetchone()[0])

    def _read_objects(self, after_rowid: int = -1, table: str | None = None) -> dict[str, _Object]:
        query = "SELECT type, name, tbl_name, sql, rowid FROM main.sqlite_master WHERE rowid > ?"
        params: tuple[object, ...] = (after_rowid,)
        if table is not None:
            query += " AND name = ? COLLATE NOCASE"
            params += (table,)
        rows = self.conn.execute(query + " ORDER BY rowid", params).fetchall()
        if rows:
            self.max_rowid = max(self.max_rowid, int(rows[-1][4]))
        objects = {row[1].lower(): _Object._make(row[:4]) for row in rows}
        # sqlite_sequence and sqlite_stat tables are SQLite's own, not the migrations'.
        for key in [k for k, o in objects.items() if o.type == "table" and k.startswith("sqlite_")]:
            del objects[key]
        return objects

    def _changes(
        self, sql: str, alter: Alter | None
    ) -> tuple[dict[str, _Object], dict[str, _Object], list[str]]:
        """Return the objects before and after the statement, and the names that changed."""
        old = self.objects
        # Reading only the rows a statement can touch keeps long migration histories from
        # replaying in quadratic time. CREATE only adds rows, and a new row's rowid is above
        # every existing one; ADD COLUMN only rewrites its table's row.
        if sql[:6].upper() == "CREATE" or (alter is not None and alter.action == "add_column"):
            if alter is not None:
                touched = self._read_objects(table=alter.table)
            else:
                touched = self._read_objects(self.max_rowid)
            new = {**old, **touched}
            changed = [k for k, o in touched.items() if old.get(k) != o]
        else:
            self.max_rowid = -1
            new = self._read_objects()
            changed = [k for k, o in new.items() if old.get(k) != o]
            changed.extend(k for k in old if k not in new)
        self.objects = new
        return old, new, changed

    def _read_columns(self, table: str) -> tuple[str, ...]:
        try:
            rows = self.conn.execute(
                "SELECT name FROM pragma_table_xinfo(?, 'main')", (table,)
            ).fetchall()
        except sqlite3.Error:
            return ()
        return tuple(str(row[0]) for row in rows)

    def _record(self, statement: MigrationStatement) -> None:
        self.statements.append(statement)

    def _attach(self, table: str, statement: MigrationStatement) -> None:
        statements = self.table_statements.setdefault(table.lower(), [])
        if not statements or statements[-1] is not statement:
            statements.append(statement)

    def _rename_table(self, old: str, new: str) -> None:
        if old in self.table_origins:
            self.table_origins[new] = self.table_origins.pop(old)
        if old in self.table_statements:
            self.table_statements[new] = self.table_statements.pop(old)
        if old in self.columns:
            self.columns[new] = self.columns.pop(old)
        self.column_origins = {
            (new if t == old else t, c): o for (t, c), o in self.column_origins.items()
        }
        self.column_statements = {
            (new if t == old else t, c): s for (t, c), s in self.column_statements.items()
        }
        prefix = f"sqlite_autoindex_{old}_"
        for name in [n for n in self.index_origins if n.startswith(prefix)]:
            renamed = f"sqlite_autoindex_{new}_{name[len(prefix) :]}"
            self.index_origins[renamed] = self.index_origins.pop(name)

    def _forget(self, obj: _Object) -> None:
        key = obj.name.lower()
        if obj.type in ("table", "view"):
            self.table_origins.pop(key, None)
            self.table_statements.pop(key, None)
            self.columns.pop(key, None)
            self.column_origins = {k: o for k, o in self.column_origins.items() if k[0] != key}
            self.column_statements = {
                k: s for k, s in self.column_statements.items() if k[0] != key
            }
            return
        self.index_origins.pop(key, None)
        statement = self.object_statements.pop(key, None)
        owner = self.table_statements.get(obj.table.lower())
        if statement is not None and owner is not None and statement in owner:
            owner.remove(statement)

    def _apply_changes(self, sql: str, origin: Origin) -> None:
        alter = parse_alter(sql)
        old, new, changed = self._changes(sql, alter)
        renamed: dict[str, str] = {}
        if alter is not None and alter.action == "rename_table" and alter.new is not None:
            before, after = alter.table.lower(), alter.new.lower()
            if before in old and after in new and before not in new:
                self._rename_table(before, after)
                renamed[before] = after
                prefix = f"sqlite_autoindex_{before}_"
                for name in old:
                    if name.startswith(prefix):
                        renamed[name] = f"sqlite_autoindex_{after}_{name[len(prefix) :]}"
        targets = set(renamed.values())
        created = [new[k] for k in changed if k in new and k not in old and k not in targets]
        for key in changed:
            if key not in new and key not in renamed:
                self._forget(old[key])

        # Columns added to (or renamed in) tables that already existed.
        added: list[tuple[str, str]] = []
        for key in changed:
            obj = new.get(key)
            if obj is None or obj.type != "table" or key not in self.columns:
                continue
            previous = old.get(key) or old.get(
                next((b for b, a in renamed.items() if a == key), "")
            )
            if previous is None or previous.sql == obj.sql:
                continue
            columns = self._read_columns(obj.name)
            if (
                alter is not None
                and alter.action == "rename_column"
                and alter.old
                and alter.new
                and alter.table.lower() == key
            ):
                self._rename_column(key, alter.old.lower(), alter.new.lower())
            known = {c.lower() for c in self.columns[key]}
            added.extend((obj.name, c) for c in columns if c.lower() not in known)
            for gone in known - {c.lower() for c in columns}:
                self.column_origins.pop((key, gone), None)
                self.column_statements.pop((key, gone), None)
            self.columns[key] = columns

        statement = self._classify(sql, origin, created, added, alter, renamed)
        self._record(statement)

        made, _ = created_name(statement_head(sql))
        for obj in created:
            key = obj.name.lower()
            if obj.type in ("table", "view"):
                self.table_origins[key] = origin
                self.table_statements[key] = [statement]
                columns = self._read_columns(obj.name)
                self.columns[key] = columns
                offsets = column_offsets(sql) if made and made.lower() == key else {}
                for column in columns:
                    offset = offsets.get(column.lower())
                    line = (
                        origin.line + sql.count("\n", 0, offset)
                        if offset is not None
                        else origin.line
                    )
                    self.column_origins[(key, column.lower())] = Origin(origin.path, line)
                    self.column_statements[(key, column.lower())] = statement
            elif obj.type in ("index", "trigger"):
                if obj.type == "index":
                    self.index_origins[key] = origin
                if obj.sql is not None:
                    self.object_statements[key] = statement
                    self._attach(obj.table, statement)
        for table, column in added:
            self.column_origins[(table.lower(), column.lower())] = origin
            self.column_statements[(table.lower(), column.lower())] = statement
        if alter is not None:
            table = renamed.get(alter.table.lower(), alter.table.lower())
            if table in self.table_statements:
                self._attach(table, statement)

    def _rename_column(self, table: str, old: str, new: str) -> None:
        columns = self.columns.get(table, ())
        self.columns[table] = tuple(new if c.lower() == old else c for c in columns)
        if (table, old) in self.column_origins:
            self.column_origins[(table, new)] = self.column_origins.pop((table, old))
        if (table, old) in self.column_statements:
            self.column_statements[(table, new)] = self.column_statements.pop((table, old))

    def _classify(
        self,
        sql: str,
        origin: Origin,
        created: list[_Object],
        added: list[tuple[str, str]],
        alter: Alter | None,
        renamed: Mapping[str, str],
    ) -> MigrationStatement:
        tables = [o for o in created if o.type in ("table", "view")]
        if tables:
            # A virtual table creates shadow tables too: the one named in the statement counts.
            named, _ = created_name(statement_head(sql))
            chosen = next(
                (o for o in tables if named and o.name.lower() == named.lower()), tables[0]
            )
            kind: StatementKind = "create_view" if chosen.type == "view" else "create_table"
            return MigrationStatement(origin.path, origin.line, sql, kind, chosen.name)
        for obj_type, kind in (("index", "create_index"), ("trigger", "create_trigger")):
            objects = [o for o in created if o.type == obj_type and o.sql is not None]
            if objects:
                return MigrationStatement(origin.path, origin.line, sql, kind, objects[0].table)
        if added:
            table, column = added[0]
            return MigrationStatement(origin.path, origin.line, sql, "add_column", table, column)
        table_name: str | None = None
        column_name: str | None = None
        if alter is not None:
            key = renamed.get(alter.table.lower(), alter.table.lower())
            table_name = self.objects[key].name if key in self.objects else alter.new or alter.table
            if alter.action == "rename_column":
                column_name = alter.new
            elif alter.action == "drop_column":
                column_name = alter.old
        return MigrationStatement(origin.path, origin.line, sql, "other", table_name, column_name)

    def origins(self) -> dict[OriginKey, Origin]:
        """Return the origins in the form `schema_from_connection` takes."""
        result: dict[OriginKey, Origin] = {}
        result.update({("table", t): o for t, o in self.table_origins.items()})
        result.update({("column", t, c): o for (t, c), o in self.column_origins.items()})
        result.update({("index", i): o for i, o in self.index_origins.items()})
        return result

    def result(self, source: str) -> Schema:
        """Return the schema built so far, with origins."""
        self.finish_file()
        return schema_from_connection(self.conn, source, self.origins())

    def close(self) -> None:
        """Release the in-memory database."""
        self.box.close()


def replay_migrations(
    folder: Path,
    *,
    budget: Budget | None = None,
    total: float = DEFAULT_REPLAY_TOTAL,
    root: Path | None = None,
) -> MigrationResult:
    """Replay every migration of `folder`, in order, into one in-memory database.

    A statement that fails, is refused by the sandbox or breaks its budget (`budget` per
    statement) is recorded in `errors` and the replay goes on with the next one; once the
    replay has taken `total` seconds, the rest is not replayed and one error says where it
    stopped. Paths in origins and errors are `folder / name` as given (relative if `folder` is).
    With `root`, a migration file whose real path is outside it is not read (an error says so).
    """
    folder = Path(folder)
    try:
        files = migration_files(folder)
    except FileNotFoundError:
        error = MigrationError(str(folder), 0, "migrations folder not found")
        return MigrationResult(Schema.empty("migrations"), (error,))
    except OSError as exc:
        error = MigrationError(str(folder), 0, f"cannot list migrations: {exc.strerror or exc}")
        return MigrationResult(Schema.empty("migrations"), (error,))

    replay = _Replay(budget)
    errors: list[MigrationError] = []
    give_up = time.monotonic() + total
    try:
        for path in files:
            display = str(path)
            try:
                text = up_part(read_script(path, root))
            except OSError as exc:
                errors.append(MigrationError(display, 0, f"cannot read: {exc.strerror or exc}"))
                continue
            line = 0
            for line, sql in split_statements(text):
                if time.monotonic() > give_up:
                    break
                message = replay.run(sql, Origin(display, line))
                if message is not None:
                    errors.append(MigrationError(display, line, message))
            message = replay.finish_file()
            if message is not None:
                errors.append(MigrationError(display, line, message))
            if time.monotonic() > give_up:
                errors.append(MigrationError(display, line, _gave_up(total)))
                break
        schema = replay.result("migrations")
    finally:
        replay.close()
    return MigrationResult(
        schema=schema,
        errors=tuple(errors),
        files=tuple(files),
        statements=tuple(replay.statements),
        table_statements=MappingProxyType(
            {t: tuple(s) for t, s in replay.table_statements.items()}
        ),
        column_statements=MappingProxyType(dict(replay.column_statements)),
    )


def _gave_up(total: float) -> str:
    return f"stopped: replaying took longer than {total:g} s in all; the rest was not replayed"


def schema_from_ddl(
    statements: Sequence[tuple[str, Origin]],
    *,
    budget: Budget | None = None,
    total: float = DEFAULT_REPLAY_TOTAL,
) -> Schema:
    """Return the schema (source "code") that DDL found in code builds.

    Each item is the SQL of one execute/executescript call and the origin of its first line;
    only CREATE, ALTER and DROP statements run (in the sandbox, on `budget`), and those that
    fail (a table created twice, a syntax error, a breach of the budget) are skipped. After
    `total` seconds the rest is skipped.
    """
    replay = _Replay(budget)
    give_up = time.monotonic() + total
    try:
        for text, origin in statements:
            for line, sql in split_statements(text):
                if time.monotonic() > give_up:
                    break
                # Code's INSERTs are the application's data, not its schema: never run them.
                if first_keyword(sql) in _DEFINITIONS:
                    replay.run(sql, Origin(origin.path, origin.line + line - 1))
            replay.finish_file()
        return replay.result("code")
    finally:
        replay.close()

"""Schema fixes as plans: which SQL would fix an issue, built from the migrations and the database.

Each function returns `MigrationPlan` values and runs nothing: the executor (`fixes/apply.py`)
applies a plan, the CLI and the editor print it first.

- MISSING_TABLE: create the table from the migration that defines it, with the indexes and
  triggers that migration defines for it.
- MISSING_COLUMN: ALTER TABLE ... ADD COLUMN from the migration that adds it, with its indexes.
- MISSING_INDEX: CREATE INDEX idx_<table>_<cols>.
- TYPE_MISMATCH and type SCHEMA_DRIFT: change the column's type by rebuilding the table.
- SCHEMA_DRIFT of a missing table, column, index or trigger: the migration's own statements.

A migration file is the unit: when the file that defines what an issue lacks has other parts the
database lacks too (two tables that the code joins, say), one plan runs all of them, so that the
verification afterwards sees the file's schema as a whole.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

from dbheal_lsp.analysis.migrations import MigrationResult, MigrationStatement
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.schema_fixes import suggested_index_columns
from dbheal_lsp.model import Issue, IssueType, MigrationPlan, PlanStep

_TYPE_FOR_CODE = MappingProxyType(
    {"INTEGER": "INTEGER", "REAL": "REAL", "TEXT": "TEXT", "NUMERIC": "NUMERIC"}
)
_CREATE_NAME = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?(?:TEMP\w*\s+)?(?:INDEX|TRIGGER|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"([^\s(]+)",
    re.IGNORECASE,
)


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA schema_version").fetchone()[0])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _object_name(sql: str) -> str | None:
    m = _CREATE_NAME.match(sql.lstrip())
    return m.group(1).strip('"`[]').lower() if m else None


def plans_for(
    issue: Issue,
    conn: sqlite3.Connection,
    live: Schema,
    migrations: MigrationResult | None,
) -> tuple[MigrationPlan, ...]:
    """Return the schema fixes for `issue`; `conn` reads the live database (read-only is fine)."""
    kind = issue.type
    if kind is IssueType.MISSING_TABLE and issue.table and migrations is not None:
        plan = create_table_plan(issue.table, conn, live, migrations, issue)
        return _whole_file(plan, conn, live, migrations, issue)
    if kind is IssueType.MISSING_COLUMN and issue.table and issue.column_name and migrations:
        plan = add_column_plan(issue.table, issue.column_name, conn, live, migrations, issue)
        return _whole_file(plan, conn, live, migrations, issue)
    if kind is IssueType.MISSING_INDEX and issue.table and issue.suggestion:
        columns = suggested_index_columns(issue, live)
        return (create_index_plan(issue.table, columns, conn, issue),) if columns else ()
    if kind is IssueType.TYPE_MISMATCH and issue.table and issue.column_name and issue.code_type:
        new_type = _TYPE_FOR_CODE.get(issue.code_type)
        if new_type is None:
            return ()
        return (change_type_plan(issue.table, issue.column_name, new_type, conn, issue),)
    if kind is IssueType.SCHEMA_DRIFT:
        return _drift_plans(issue, conn, live, migrations)
    return ()


def create_table_plan(
    table: str,
    conn: sqlite3.Connection,
    live: Schema,
    migrations: MigrationResult,
    issue: Issue | None = None,
) -> MigrationPlan | None:
    """Create `table` as the migrations define it, with its indexes and triggers."""
    defined = migrations.schema.table(table)
    if defined is None or defined.sql is None or live.table(table) is not None:
        return None
    statements = [s for s in migrations.statements_for_table(table) if _still_needed(s, live)]
    creating = next((s for s in statements if s.kind in ("create_table", "create_view")), None)
    if creating is None:
        return None
    # Triggers elsewhere that the same migration defines for this table (an AFTER INSERT ON
    # users that fills it, say) belong to the same change.
    same_file = [
        s
        for s in migrations.statements
        if s.path == creating.path
        and s.kind == "create_trigger"
        and s not in statements
        and _still_needed(s, live)
    ]
    steps = _steps_from(statements + same_file, migrations, table)
    what = ", ".join(_describe(s) for s in statements + same_file)
    return MigrationPlan(
        id=f"create_table:{defined.name}",
        kind="create_table",
        title=f"Create table {defined.name} from {_file_name(creating)}",
        description=f"Runs the statements of {creating.origin} that create {what}.",
        table=defined.name,
        steps=steps,
        expected=f"table {defined.name} exists with columns {', '.join(defined.column_names)}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=_schema_version(conn),
        migration_name="",  # already in the migrations: nothing new to write
        check_sql=_check_sql(issue),
    )


def add_column_plan(
    table: str,
    column: str,
    conn: sqlite3.Connection,
    live: Schema,
    migrations: MigrationResult,
    issue: Issue | None = None,
) -> MigrationPlan | None:
    """Add `column` to `table` with the ALTER TABLE of the migration that adds it."""
    live_table = live.table(table)
    statement = migrations.column_statement(table, column)
    if live_table is None or statement is None or live_table.column(column) is not None:
        return None
    if statement.kind != "add_column":
        return None  # the column comes with a CREATE TABLE: the table itself is missing
    indexes = [
        s
        for s in migrations.statements_for_table(table)
        if s.kind == "create_index"
        and _still_needed(s, live)
        and re.search(rf"\b{re.escape(column)}\b", s.sql, re.IGNORECASE)
    ]
    steps = _steps_from([statement, *indexes], migrations, table)
    return MigrationPlan(
        id=f"add_column:{live_table.name}.{column}",
        kind="add_column",
        title=f"Add column {live_table.name}.{column} from {_file_name(statement)}",
        description=f"Runs the ALTER TABLE of {statement.origin}"
        + (f" and {len(indexes)} index statement(s) of the migrations." if indexes else "."),
        table=live_table.name,
        column=column,
        steps=steps,
        expected=f"{live_table.name} has a column {column}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=_schema_version(conn),
        check_sql=_check_sql(issue),
    )


def create_index_plan(
    table: str, columns: Sequence[str], conn: sqlite3.Connection, issue: Issue | None = None
) -> MigrationPlan:
    """Create the index idx_<table>_<cols> that lets SQLite search instead of scan."""
    name = f"idx_{table}_{'_'.join(columns)}"
    cols = ", ".join(_quote(c) for c in columns)
    sql = f"CREATE INDEX {_quote(name)} ON {_quote(table)} ({cols})"
    return MigrationPlan(
        id=f"create_index:{name}",
        kind="create_index",
        title=f"Create index {name} on {table}({', '.join(columns)})",
        description=f"An index on {table}({', '.join(columns)}) lets SQLite search the table "
        "for the filtered values instead of reading every row.",
        table=table,
        column=columns[0],
        steps=(PlanStep(sql),),
        expected=f"EXPLAIN QUERY PLAN uses {name}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=_schema_version(conn),
        migration_name=f"add_index_{table}_{'_'.join(columns)}".lower(),
        check_sql=_check_sql(issue),
        index_columns=tuple(columns),
    )


def change_type_plan(
    table: str, column: str, new_type: str, conn: sqlite3.Connection, issue: Issue | None = None
) -> MigrationPlan:
    """Change `table.column` to `new_type` by SQLite's table rebuild procedure."""
    from dbheal_lsp.databases.sqlite.rebuild import change_type_plan as rebuild_plan

    return rebuild_plan(
        conn,
        table,
        column,
        new_type,
        issue_fingerprint=issue.fingerprint if issue else "",
        check_sql=_check_sql(issue),
    )


def _drift_plans(
    issue: Issue, conn: sqlite3.Connection, live: Schema, migrations: MigrationResult | None
) -> tuple[MigrationPlan, ...]:
    if migrations is None or not issue.table:
        return ()
    if issue.db_type and issue.column_name:
        expected = migrations.schema.table(issue.table)
        column = expected.column(issue.column_name) if expected else None
        if column is None or not column.declared_type:
            return ()
        return (
            change_type_plan(issue.table, issue.column_name, column.declared_type, conn, issue),
        )
    if live.table(issue.table) is None:
        plan = create_table_plan(issue.table, conn, live, migrations, issue)
        return _whole_file(plan, conn, live, migrations, issue)
    if issue.column_name:
        plan = add_column_plan(issue.table, issue.column_name, conn, live, migrations, issue)
        return _whole_file(plan, conn, live, migrations, issue)
    # A missing index or trigger: the drift issue stands on the statement that creates it.
    origin = issue.origin
    statement = next(
        (
            st
            for st in migrations.statements
            if origin is not None
            and st.line == origin.line
            and Path(st.path).name == Path(origin.path).name
            and st.kind in ("create_index", "create_trigger")
        ),
        None,
    )
    name = _object_name(statement.sql) if statement else None
    if statement is None or name is None or not _still_needed(statement, live):
        return ()
    what = statement.kind.removeprefix("create_")
    return _whole_file(
        MigrationPlan(
            id=f"{statement.kind}:{name}",
            kind=statement.kind,
            title=f"Create {what} {name} from {_file_name(statement)}",
            description=f"Runs the statement of {statement.origin}.",
            table=issue.table,
            steps=(PlanStep(statement.sql),),
            expected=f"the database has {what} {name}",
            issue_fingerprint=issue.fingerprint,
            schema_version=_schema_version(conn),
            check_sql=_check_sql(issue),
        ),
        conn,
        live,
        migrations,
        issue,
    )


def _whole_file(
    plan: MigrationPlan | None,
    conn: sqlite3.Connection,
    live: Schema,
    migrations: MigrationResult,
    issue: Issue | None,
) -> tuple[MigrationPlan, ...]:
    """Return `plan`, or the plan of its whole migration file when that file lacks more."""
    if plan is None:
        return ()
    wider = migration_file_plan(_source_path(plan, migrations), conn, live, migrations, issue)
    if wider is None or _sql_set(wider) <= _sql_set(plan):
        return (plan,)  # the file lacks nothing more than this part brings anyway
    return (wider,)


def _sql_set(plan: MigrationPlan) -> set[str]:
    return {" ".join(step.sql.split()) for step in plan.steps if step.kind == "sql"}


def _source_path(plan: MigrationPlan, migrations: MigrationResult) -> str | None:
    """Return the migration file whose statement `plan` runs first for its own target."""
    wanted = _sql_set(plan)
    for statement in migrations.statements:
        if statement.kind == "other" or " ".join(statement.sql.split()) not in wanted:
            continue
        # A table's or column's plan also runs indexes and triggers: its own statement counts.
        if plan.kind not in ("create_table", "add_column") or statement.kind in (
            "create_table",
            "create_view",
            "add_column",
        ):
            return statement.path
    return None


def migration_file_plan(
    path: str | None,
    conn: sqlite3.Connection,
    live: Schema,
    migrations: MigrationResult,
    issue: Issue | None = None,
) -> MigrationPlan | None:
    """Return one plan for every part of migration file `path` the database lacks.

    None when the file lacks one part or none: the plan of that part alone says it better.
    Each part brings what its own plan would (a table its later ALTERs, indexes and triggers),
    and the statements run in the order of the migrations.
    """
    if path is None:
        return None
    statements: list[MigrationStatement] = []
    parts: list[MigrationStatement] = []
    created: set[str] = set()
    for statement in migrations.statements:
        if statement.path != path or statement.kind == "other":
            continue
        if not _still_needed(statement, live) or statement in statements:
            continue
        table = (statement.table or "").lower()
        if statement.kind in ("create_table", "create_view"):
            # Only what the migrations still define at the end (not a table later dropped).
            built = migrations.statements_for_table(statement.table or "")
            if migrations.schema.table(statement.table or "") is None or statement not in built:
                continue
            statements.extend(s for s in built if _still_needed(s, live))
            created.add(table)
        elif statement.kind == "add_column":
            if (
                live.table(table) is None
                or migrations.column_statement(table, statement.column or "") != statement
            ):
                continue
            statements.append(statement)
        else:
            name = _object_name(statement.sql)
            defined = (
                migrations.schema.indexes
                if statement.kind == "create_index"
                else migrations.schema.triggers
            )
            # Its table must be there when it runs: in the database, or made by this plan.
            if name is None or name not in defined:
                continue
            if live.table(table) is None and table not in created:
                continue
            statements.append(statement)
        parts.append(statement)
    if len(parts) < 2:
        return None
    file_name = _file_name(parts[0])
    what = ", ".join(_describe(s) for s in parts)
    first = next(
        (s for s in parts if s.kind in ("create_table", "create_view")),
        next((s for s in parts if s.kind == "add_column"), parts[0]),
    )
    kind = "create_table" if first.kind in ("create_table", "create_view") else first.kind
    return MigrationPlan(
        id=f"migration:{file_name}",
        kind=kind,
        title=f"Apply {file_name}: {what}",
        description=f"Runs the statements of {file_name} that the database lacks, in one "
        f"transaction: {what}.",
        table=first.table or "",
        column=first.column if kind == "add_column" else None,
        steps=_steps_from(statements, migrations, first.table or ""),
        expected=f"the database has {what}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=_schema_version(conn),
        migration_name="",  # already in the migrations: nothing new to write
        check_sql=_check_sql(issue),
    )


def _still_needed(statement: MigrationStatement, live: Schema) -> bool:
    """Return whether the live database lacks what `statement` creates."""
    if statement.kind in ("create_table", "create_view"):
        return statement.table is None or live.table(statement.table) is None
    if statement.kind == "add_column":
        table = live.table(statement.table or "")
        return table is None or table.column(statement.column or "") is None
    name = _object_name(statement.sql)
    if statement.kind == "create_index":
        return name is None or name not in live.indexes
    if statement.kind == "create_trigger":
        return name is None or name not in live.triggers
    return False


def _steps_from(
    statements: Sequence[MigrationStatement], migrations: MigrationResult, table: str
) -> tuple[PlanStep, ...]:
    ordered = sorted(
        dict.fromkeys(statements),
        key=lambda s: migrations.statements.index(s) if s in migrations.statements else 0,
    )
    return tuple(PlanStep(s.sql) for s in ordered)


def _describe(statement: MigrationStatement) -> str:
    if statement.kind == "create_table":
        return f"table {statement.table}"
    if statement.kind == "add_column":
        return f"column {statement.table}.{statement.column}"
    name = _object_name(statement.sql) or statement.kind
    return f"{statement.kind.replace('create_', '')} {name}"


def _file_name(statement: MigrationStatement) -> str:
    return statement.path.replace("\\", "/").rsplit("/", 1)[-1]


def _check_sql(issue: Issue | None) -> tuple[str, ...]:
    """The statement that raised the issue must prepare once the plan is applied."""
    if issue is None or not issue.sql or issue.path.endswith(".sql"):
        return ()
    if "__dbheal_" in issue.sql and ":__dbheal_" not in issue.sql:
        return ()  # an interpolated name stands in it: nothing SQLite could prepare
    return (issue.sql,)

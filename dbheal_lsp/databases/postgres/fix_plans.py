"""Schema fixes for an issue on PostgreSQL, as plans: which SQL would fix it, from the migrations
and the server's catalog. Nothing runs here: `fixes/apply.py` runs a plan.

- MISSING_TABLE: the migration's CREATE TABLE, with its later ALTERs and indexes;
- MISSING_COLUMN: the migration's ALTER TABLE ... ADD COLUMN, with the indexes on the column;
- MISSING_INDEX: CREATE INDEX idx_<table>_<cols>; on a large table (`LARGE_TABLE_ROWS` rows
  by the server's estimate) `CREATE INDEX CONCURRENTLY`, which does not block writes and runs
  outside the transaction (fix_transaction.py);
- TYPE_MISMATCH, and SCHEMA_DRIFT of a column's type: ALTER COLUMN ... TYPE (type_change.py);
- SCHEMA_DRIFT of a missing table or column: as the first two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.migrations import MigrationResult, MigrationStatement
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.postgres import type_change
from dbheal_lsp.databases.postgres.fix_transaction import catalog_version
from dbheal_lsp.databases.schema_fixes import suggested_index_columns
from dbheal_lsp.model import Issue, IssueType, MigrationPlan, PlanStep

if TYPE_CHECKING:
    import psycopg

__all__ = ["LARGE_TABLE_ROWS", "create_index_plan", "plans_for"]

#: From this many rows (the server's estimate) an index is built CONCURRENTLY.
LARGE_TABLE_ROWS = 100_000
LARGE_TABLE_BYTES = 64 * 1024 * 1024
_TYPE_FOR_CODE = MappingProxyType(
    {"INTEGER": "integer", "REAL": "double precision", "TEXT": "text", "NUMERIC": "numeric"}
)
_INDEX_NAME = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    r"\"?([\w$]+)",
    re.IGNORECASE,
)


def plans_for(
    issue: Issue,
    conn: psycopg.Connection[Any],
    schema: str,
    live: Schema,
    migrations: MigrationResult | None,
) -> tuple[MigrationPlan, ...]:
    """The schema fixes of `issue`, planned on `conn` (read only)."""
    version = catalog_version(conn, schema)
    kind, table, column = issue.type, issue.table, issue.column_name
    plan: MigrationPlan | None = None
    if kind is IssueType.SCHEMA_DRIFT and table and column and issue.db_type and migrations:
        expected = migrations.schema.table(table)
        defined = expected.column(column) if expected else None
        if defined is not None and defined.declared_type:
            plan = _change(conn, schema, issue, defined.declared_type, version)
    elif kind in (IssueType.MISSING_TABLE, IssueType.SCHEMA_DRIFT) and table and migrations:
        if live.table(table) is None:
            plan = create_table_plan(table, live, migrations, issue, version)
        elif column:
            plan = add_column_plan(table, column, live, migrations, issue, version)
    elif kind is IssueType.MISSING_COLUMN and table and column and migrations:
        plan = add_column_plan(table, column, live, migrations, issue, version)
    elif kind is IssueType.MISSING_INDEX and table and issue.suggestion:
        columns = suggested_index_columns(issue, live)
        if columns:
            plan = create_index_plan(conn, schema, table, columns, issue, version)
    elif kind is IssueType.TYPE_MISMATCH and table and column and issue.code_type:
        new_type = _TYPE_FOR_CODE.get(issue.code_type.upper())
        if new_type is not None:
            plan = _change(conn, schema, issue, new_type, version)
    return () if plan is None else (plan,)


def _change(
    conn: psycopg.Connection[Any], schema: str, issue: Issue, new_type: str, version: int
) -> MigrationPlan:
    return type_change.change_type_plan(
        conn,
        schema,
        issue.table or "",
        issue.column_name or "",
        new_type,
        fingerprint=issue.fingerprint,
        version=version,
        check_sql=check_sql(issue),
    )


def create_table_plan(
    table: str, live: Schema, migrations: MigrationResult, issue: Issue | None, version: int
) -> MigrationPlan | None:
    """Create `table` with the statements of the migrations that build it."""
    defined = migrations.schema.table(table)
    if defined is None or live.table(table) is not None:
        return None
    statements = [s for s in migrations.statements_for_table(table) if _still_needed(s, live)]
    creating = next((s for s in statements if s.kind in ("create_table", "create_view")), None)
    if creating is None:
        return None
    return MigrationPlan(
        id=f"create_table:{defined.name}",
        kind="create_table",
        title=f"Create table {defined.name} from {_file_name(creating)}",
        description=f"Runs, in one transaction, the statements of the migrations that build "
        f"{defined.name} ({creating.origin} first).",
        table=defined.name,
        steps=_steps(statements),
        expected=f"table {defined.name} exists with columns {', '.join(defined.column_names)}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=version,
        check_sql=check_sql(issue),
    )


def add_column_plan(
    table: str,
    column: str,
    live: Schema,
    migrations: MigrationResult,
    issue: Issue | None,
    version: int,
) -> MigrationPlan | None:
    """Add `column` with the ALTER TABLE of the migration that adds it, and its indexes."""
    live_table = live.table(table)
    statement = migrations.column_statement(table, column)
    if live_table is None or statement is None or live_table.column(column) is not None:
        return None
    indexes = [
        s
        for s in migrations.statements_for_table(table)
        if s.kind == "create_index"
        and _still_needed(s, live)
        and re.search(rf"\b{re.escape(column)}\b", s.sql, re.IGNORECASE)
    ]
    return MigrationPlan(
        id=f"add_column:{live_table.name}.{column}",
        kind="add_column",
        title=f"Add column {live_table.name}.{column} from {_file_name(statement)}",
        description=f"Runs the ALTER TABLE of {statement.origin}"
        + (f" and {len(indexes)} index statement(s) of the migrations." if indexes else "."),
        table=live_table.name,
        column=column,
        steps=_steps([statement, *indexes]),
        expected=f"{live_table.name} has a column {column}",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=version,
        check_sql=check_sql(issue),
    )


def create_index_plan(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    columns: Sequence[str],
    issue: Issue | None,
    version: int,
) -> MigrationPlan:
    """CREATE INDEX idx_<table>_<cols>, CONCURRENTLY on a large table."""
    name = f"idx_{table}_{'_'.join(columns)}"
    size, rows = type_change.table_size(conn, schema, table)
    # A table never analyzed has no row estimate: its size says it is large too.
    large = rows >= LARGE_TABLE_ROWS or size >= LARGE_TABLE_BYTES
    how = "CONCURRENTLY " if large else ""
    cols = ", ".join(type_change.quote(c) for c in columns)
    sql = f"CREATE INDEX {how}{type_change.quote(name)} ON {type_change.quote(table)} ({cols})"
    note = (
        f" {table} has about {rows} rows: the index is built CONCURRENTLY, without blocking "
        "writes, outside the fix's transaction (checked valid, dropped if the fix fails)."
        if large
        else ""
    )
    return MigrationPlan(
        id=f"create_index:{name}",
        kind="create_index",
        title=f"Create index {name} on {table}({', '.join(columns)})",
        description=f"An index on {table}({', '.join(columns)}) lets PostgreSQL search the "
        f"table for the filtered values instead of reading every row.{note}",
        table=table,
        column=columns[0],
        steps=(PlanStep(sql),),
        expected=f"index {name} exists and is valid",
        issue_fingerprint=issue.fingerprint if issue else "",
        schema_version=version,
        migration_name=f"add_index_{table}_{'_'.join(columns)}".lower(),
        check_sql=check_sql(issue),
        index_columns=tuple(columns),
    )


def _still_needed(statement: MigrationStatement, live: Schema) -> bool:
    """Whether the server lacks what `statement` creates."""
    if statement.kind in ("create_table", "create_view"):
        return statement.table is None or live.table(statement.table) is None
    if statement.kind == "add_column":
        table = live.table(statement.table or "")
        return table is None or table.column(statement.column or "") is None
    if statement.kind == "create_index":
        found = _INDEX_NAME.match(statement.sql)
        return found is None or found.group(1).lower() not in live.indexes
    return False


def _steps(statements: Sequence[MigrationStatement]) -> tuple[PlanStep, ...]:
    return tuple(PlanStep(s.sql) for s in dict.fromkeys(statements))


def _file_name(statement: MigrationStatement) -> str:
    return statement.path.replace("\\", "/").rsplit("/", 1)[-1]


def check_sql(issue: Issue | None) -> tuple[str, ...]:
    """The statement that raised the issue must prepare once the plan is applied."""
    if issue is None or not issue.sql or issue.path.endswith(".sql"):
        return ()
    if "__dbheal_" in issue.sql and ":__dbheal_" not in issue.sql:
        return ()
    return (issue.sql,)

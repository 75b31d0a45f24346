"""The plans for an issue on PostgreSQL: a table and a column from the migration that defines
them (file and line named), an index, a type change; nothing run on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbheal_lsp.databases.postgres.database import PostgresDatabase
from dbheal_lsp.databases.postgres.fix_plans import plans_for
from dbheal_lsp.model import Issue, IssueType, Severity, Span
from tests.databases.postgres.fixes_project import MIGRATION_1, MIGRATION_2, tables


def _issue(kind: IssueType, **fields: Any) -> Issue:
    return Issue(kind, Severity.CRITICAL, "app/db.py", Span(1, 1, 1, 2), "m", **fields)


def _state(url: str, conn: Any, tmp_path: Path) -> tuple[Any, Any]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.sql").write_text(MIGRATION_1)
    (folder / "002_orders.sql").write_text(MIGRATION_2)
    conn.execute(MIGRATION_1)
    database = PostgresDatabase(url)
    try:
        return database.live_schema(), database.migrations(folder)
    finally:
        database.close()


def test_a_missing_table_is_created_from_its_migration(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    live, migrations = _state(pg_url, pg_conn, tmp_path)
    issue = _issue(IssueType.MISSING_TABLE, table="orders", sql="SELECT total FROM orders")
    (plan,) = plans_for(issue, pg_conn, "public", live, migrations)
    assert plan.kind == "create_table"
    assert plan.title == "Create table orders from 002_orders.sql"
    assert "002_orders.sql:1" in plan.description
    assert [s.sql.split(" (")[0] for s in plan.steps] == [
        "CREATE TABLE orders",
        "CREATE INDEX idx_orders_user ON orders",
    ]
    assert plan.check_sql == ("SELECT total FROM orders",)
    assert "orders" not in tables(pg_conn)  # planning runs nothing


def test_a_missing_column_is_added_from_its_migration(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    live, migrations = _state(pg_url, pg_conn, tmp_path)
    issue = _issue(IssueType.MISSING_COLUMN, table="users", column_name="nickname")
    (plan,) = plans_for(issue, pg_conn, "public", live, migrations)
    assert plan.kind == "add_column"
    assert [s.sql for s in plan.steps] == ["ALTER TABLE users ADD COLUMN nickname text"]
    assert "002_orders.sql:3" in plan.description


def test_a_missing_index_and_a_type_mismatch(pg_url: str, pg_conn: Any, tmp_path: Path) -> None:
    live, migrations = _state(pg_url, pg_conn, tmp_path)
    index = _issue(IssueType.MISSING_INDEX, table="users", suggestion="idx_users_email")
    (plan,) = plans_for(index, pg_conn, "public", live, migrations)
    assert plan.steps[0].sql == 'CREATE INDEX "idx_users_email" ON "users" ("email")'
    mismatch = _issue(
        IssueType.TYPE_MISMATCH, table="users", column_name="email", code_type="INTEGER"
    )
    (change,) = plans_for(mismatch, pg_conn, "public", live, migrations)
    assert change.kind == "change_type" and change.new_type == "integer"
    unknown = _issue(IssueType.MISSING_TABLE, table="nowhere")
    assert plans_for(unknown, pg_conn, "public", live, migrations) == ()

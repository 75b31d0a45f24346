"""A missing table or column healed on the application's own connection from the migrations:
in a savepoint of its open transaction, or in a transaction of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from dbheal_lsp.databases.postgres.heal_missing import heal_missing
from tests.databases.postgres.fixes_project import MIGRATION_1, MIGRATION_2, columns, tables


def _migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.sql").write_text(MIGRATION_1)
    (folder / "002_orders.sql").write_text(MIGRATION_2)
    return folder


def test_a_missing_table_is_created_in_its_own_transaction(pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute(MIGRATION_1)
    message = 'relation "orders" does not exist'
    plan = heal_missing(pg_conn, message, "SELECT * FROM orders", _migrations(tmp_path))
    assert plan is not None and plan.title == "Create table orders from 002_orders.sql"
    assert "orders" in tables(pg_conn)


def test_a_missing_column_is_added_inside_the_apps_transaction(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)
    with psycopg.connect(pg_url) as app:  # not autocommit: the heal joins its transaction
        app.execute("INSERT INTO users (email) VALUES ('a@x')")
        message = 'column "nickname" does not exist'
        query = "SELECT nickname FROM users"
        plan = heal_missing(app, message, query, _migrations(tmp_path))
        assert plan is not None and plan.kind == "add_column"
        assert "nickname" not in columns(pg_conn, "users")  # not committed yet
        app.commit()
    assert "nickname" in columns(pg_conn, "users")
    assert pg_conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1


def test_nothing_runs_when_no_migration_defines_it(pg_conn: Any, tmp_path: Path) -> None:
    message = 'relation "nowhere" does not exist'
    assert heal_missing(pg_conn, message, "SELECT 1 FROM nowhere", _migrations(tmp_path)) is None
    assert tables(pg_conn) == set()

"""Tests of one error's handling (dbheal_lsp.runtime.incident): the heal, the rest of the
statement, the rest of a script, report mode, the recorded event."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.runtime import connect
from tests.runtime.projects import MIGRATIONS, Project, healed


def test_heals_a_missing_table_with_its_indexes_and_triggers(project: Project) -> None:
    conn = project.connect()
    assert conn.execute("SELECT id, total FROM orders").fetchall() == []
    assert {
        ("table", "orders"),
        ("index", "orders_by_user"),
        ("trigger", "orders_new_status"),
    } <= project.objects()
    conn.close()
    [event] = project.events()
    assert event.error == "no such table: orders"
    assert event.statement == "SELECT id, total FROM orders"
    assert event.action == "create_table orders from migrations/002_orders.sql:1 (3 statements)"
    assert event.outcome == "healed"
    assert event.table == "orders"
    assert event.path is not None and Path(event.path).name == "test_incident.py"
    assert event.line is not None and event.line > 0


def test_heals_every_missing_table_of_a_statement_before_its_one_retry(project: Project) -> None:
    conn = project.connect()
    sql = "SELECT o.id, i.sku FROM orders AS o JOIN items AS i ON i.order_id = o.id"
    assert conn.execute(sql).fetchall() == []
    assert [e.table for e in healed(project.events())] == ["orders", "items"]
    conn.close()


def test_executescript_runs_only_the_rest_of_the_script_again(project: Project) -> None:
    conn = project.connect()
    conn.executescript(
        """
        INSERT INTO users (name) VALUES ('cy');  -- ran before the failure: not run again
        INSERT INTO orders (user_id, total) VALUES (3, 1.5);
        INSERT INTO users (name) VALUES ('di');
        """
    )
    assert conn.execute("SELECT name FROM users ORDER BY id").fetchall() == [
        ("ann",),
        ("bob",),
        ("cy",),
        ("di",),
    ]
    assert conn.execute("SELECT user_id, total FROM orders").fetchall() == [(3, 1.5)]
    assert [e.table for e in healed(project.events())] == ["orders"]
    conn.close()


def test_a_script_that_failed_inside_its_own_transaction_is_not_run_again(
    project: Project,
) -> None:
    conn = project.connect()
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.executescript(
            "BEGIN; INSERT INTO users (name) VALUES ('cy'); SELECT * FROM orders; COMMIT;"
        )
    assert conn.in_transaction  # as sqlite3 leaves it
    conn.rollback()
    [event] = project.events()
    assert event.outcome.startswith("not healed: the script failed inside a transaction")
    assert ("table", "orders") not in project.objects()
    conn.close()


def test_row_factory_and_text_factory_do_not_disturb_a_heal(project: Project) -> None:
    conn = project.connect()

    def as_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
        return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}

    conn.row_factory = as_dict
    conn.text_factory = bytes
    assert conn.execute("SELECT name, email FROM users WHERE id = 1").fetchall() == [
        {"name": b"ann", "email": None}
    ]
    assert conn.text_factory is bytes
    assert [e.table for e in healed(project.events())] == ["users"]
    conn.close()


def test_a_memory_database_is_healed_from_the_migrations(project: Project) -> None:
    conn = connect(":memory:", migrations=project.migrations, project_root=project.root)
    conn.executescript(MIGRATIONS["001_init.sql"])
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert conn.execute("SELECT email FROM users").fetchall() == []
    assert [e.table for e in healed(project.events())] == ["orders", "users"]
    conn.close()


def test_report_mode_records_and_raises(project: Project) -> None:
    conn = project.connect(mode="report")
    with pytest.raises(sqlite3.OperationalError, match="no such table: orders"):
        conn.execute("SELECT * FROM orders")
    assert ("table", "orders") not in project.objects()
    [event] = project.events()
    assert event.outcome == "reported (mode report): not healed"
    assert event.action.startswith("would create_table orders from migrations/002_orders.sql:1")
    with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
        conn.execute("SELECT * FROM nope")
    assert project.events()[-1].outcome == (
        "reported (mode report); not healed: no migration defines table nope"
    )
    conn.close()

"""Tests of the checks a plan's result must pass before a commit, on real databases broken
for real (a NOT NULL column holding NULL, an orphan row, a query that no longer prepares)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from dbheal_lsp.databases.sqlite.verify import (
    foreign_keys,
    index_names,
    index_used,
    integrity,
    prepares,
)
from dbheal_lsp.model import MigrationPlan, PlanStep

PLAN = MigrationPlan(
    "create_index:fp",
    "create_index",
    "Add index on orders(customer_email)",
    "",
    "orders",
    (PlanStep("CREATE INDEX idx_orders_email ON orders (customer_email)"),),
    "",
    check_sql=(
        "SELECT id FROM orders WHERE customer_email = ?",
        "SELECT id FROM orders WHERE customer_email = :email AND id > :id",
    ),
)


def _shop(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES "
        "customers (id), customer_email TEXT NOT NULL);"
        "INSERT INTO customers VALUES (1, 'a@x');"
        "INSERT INTO orders VALUES (1, 1, 'a@x'), (2, 1, 'b@x');"
    )
    return conn


def test_integrity_passes_a_sound_table_and_fails_a_broken_one(tmp_path: Path) -> None:
    conn = _shop(tmp_path / "shop.db")
    assert integrity(conn, PLAN, full=False).ok
    assert integrity(conn, PLAN, full=True).name == "integrity_check"
    # A NOT NULL column holding NULL: what a broken rebuild could leave behind.
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'customer_email TEXT NOT NULL', "
        "'customer_email TEXT') WHERE name = 'orders'"
    )
    conn.close()
    conn = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    conn.execute("UPDATE orders SET customer_email = NULL WHERE id = 2")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'customer_email TEXT', "
        "'customer_email TEXT NOT NULL') WHERE name = 'orders'"
    )
    conn.close()
    conn = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    try:
        check = integrity(conn, PLAN, full=False)
        assert (check.name, check.ok) == ("quick_check", False)
        assert "NULL value in orders.customer_email" in check.detail
        # A table the plan did not touch is not what its check reads.
        assert integrity(conn, replace(PLAN, table="customers"), full=False).ok
        assert not integrity(conn, PLAN, full=True).ok
    finally:
        conn.close()


def test_foreign_keys_names_the_rows_without_a_parent(tmp_path: Path) -> None:
    conn = _shop(tmp_path / "shop.db")
    try:
        check = foreign_keys(conn, PLAN)
        assert check.ok and check.detail == "no violations in orders"
        conn.execute("INSERT INTO orders VALUES (3, 9, 'c@x')")  # foreign_keys is off
        check = foreign_keys(conn, PLAN)
        assert not check.ok
        assert check.detail == "1 violation(s): orders rowid 3 has no parent in customers"
        # A type change of the referenced key checks the tables that reference it.
        key_change = replace(PLAN, kind="change_type", table="customers", column="id")
        assert foreign_keys(conn, key_change).detail.startswith("1 violation(s): orders rowid 3")
        assert foreign_keys(conn, replace(key_change, column="email")).ok
        assert foreign_keys(conn, replace(PLAN, table="gone")).detail == "no violations in -"
    finally:
        conn.close()


def test_a_new_index_must_be_used_by_the_plans_queries(tmp_path: Path) -> None:
    conn = _shop(tmp_path / "shop.db")
    try:
        before = index_names(conn)
        assert index_used(conn, PLAN, before)[0].detail == "the plan created no index"
        conn.execute("CREATE INDEX IDX_Orders_Email ON orders (customer_email)")
        assert index_names(conn) - before == {"idx_orders_email"}
        checks = index_used(conn, PLAN, before)
        assert [(c.name, c.ok) for c in checks] == [
            ("index created", True),
            ("index used: " + PLAN.check_sql[0], True),
            ("index used: " + PLAN.check_sql[1], True),
        ]
        unused = replace(PLAN, check_sql=("SELECT id FROM orders WHERE customer_id = 1",))
        assert not index_used(conn, unused, before)[1].ok
    finally:
        conn.close()


def test_prepares_fails_a_query_the_new_schema_breaks(tmp_path: Path) -> None:
    conn = _shop(tmp_path / "shop.db")
    assert all(c.ok for c in prepares(conn, PLAN))
    conn.execute("ALTER TABLE orders RENAME COLUMN customer_email TO email")
    conn.close()
    # A new connection, as each run has: an EXPLAIN cached from before a schema change would
    # list its old program.
    conn = sqlite3.connect(tmp_path / "shop.db")
    try:
        checks = prepares(conn, PLAN)
        assert [c.ok for c in checks] == [False, False]
        assert "no such column: customer_email" in checks[0].detail
    finally:
        conn.close()


def test_a_query_checked_before_a_rebuild_is_checked_again_after_it(tmp_path: Path) -> None:
    # The executor verifies on the connection that ran the steps. sqlite3 caches prepared
    # statements by their text, and SQLite does not re-prepare an EXPLAIN after a schema
    # change: the second check must see the rebuilt table, not the one cached before.
    conn = _shop(tmp_path / "shop.db")
    plan = replace(PLAN, check_sql=("SELECT customer_email FROM orders WHERE id = ?",))
    assert all(c.ok for c in prepares(conn, plan))
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE new_orders (id INTEGER PRIMARY KEY, customer_id INTEGER)")
    conn.execute("INSERT INTO new_orders SELECT id, customer_id FROM orders")
    conn.execute("DROP TABLE orders")
    conn.execute("ALTER TABLE new_orders RENAME TO orders")
    after = prepares(conn, plan)
    conn.execute("ROLLBACK")
    assert not after[0].ok
    assert "no such column: customer_email" in after[0].detail


def test_an_index_made_after_a_first_look_is_seen_on_the_same_connection(tmp_path: Path) -> None:
    conn = _shop(tmp_path / "shop.db")
    before = index_names(conn)
    assert not all(c.ok for c in index_used(conn, PLAN, before))  # no index yet
    conn.execute("CREATE INDEX idx_orders_email ON orders (customer_email)")
    checks = index_used(conn, PLAN, before)
    assert all(c.ok for c in checks), checks

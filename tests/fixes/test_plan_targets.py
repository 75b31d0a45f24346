"""Tests of what a plan changes: two plans of one change are one fix (the queue keeps one
entry, heal applies it once); real plans made from a real database."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from dbheal_lsp.databases.sqlite.rebuild import change_type_plan
from dbheal_lsp.fixes.plan_targets import plan_key, same_target, sql_set
from dbheal_lsp.model import MigrationPlan, PlanStep

ORDERS = "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL)"
ITEMS = "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER)"
ITEMS_INDEX = "CREATE INDEX idx_order_items_order_id ON order_items (order_id)"


def _migration_plan(id: str, kind: str, table: str, *sql: str, name: str = "") -> MigrationPlan:
    steps = tuple(PlanStep(s) for s in sql)
    return MigrationPlan(id, kind, f"Create {table}", "", table, steps, "", migration_name=name)


def _type_change(tmp_path: Path) -> MigrationPlan:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_id TEXT)")
    try:
        return change_type_plan(conn, "sessions", "user_id", "INTEGER", issue_fingerprint="fp-1")
    finally:
        conn.close()


def test_a_type_change_planned_again_or_for_another_issue_is_the_same_fix(tmp_path: Path) -> None:
    plan = _type_change(tmp_path)
    assert plan_key(plan) == "change_type:sessions:user_id:integer"
    other_issue = replace(plan, id="change_type:fp-2", issue_fingerprint="fp-2")
    replanned = replace(plan, schema_version=plan.schema_version + 1)
    assert same_target(plan, other_issue) and same_target(plan, replanned)
    to_real = replace(other_issue, new_type="REAL")
    assert not same_target(plan, to_real)
    assert not same_target(plan, replace(other_issue, column="token"))


def test_a_migration_files_plan_and_the_plan_of_one_of_its_parts_are_one_fix() -> None:
    whole = _migration_plan(
        "create_table:002", "create_table", "orders", ORDERS, ITEMS, ITEMS_INDEX
    )
    # Whitespace does not make two statements differ.
    part = _migration_plan(
        "create_index:fp-9", "create_index", "order_items", ITEMS_INDEX.replace(" ON", "\n   ON")
    )
    assert sql_set(part) < sql_set(whole)
    assert same_target(whole, part)
    other = _migration_plan("create_table:003", "create_table", "users", "CREATE TABLE users (a)")
    assert not same_target(whole, other)


def test_plans_written_as_new_migrations_share_no_statements_by_chance() -> None:
    # A plan dbheal writes as a migration of its own names a made-up target: only the key and
    # the id can make it the same fix as another.
    index = _migration_plan("create_index:a", "create_index", "t", ITEMS_INDEX, name="add_index")
    again = _migration_plan("create_index:b", "create_index", "t", ITEMS_INDEX, name="add_index")
    assert plan_key(index) == "create_index:a"
    assert not same_target(index, again)
    assert same_target(index, replace(again, id="create_index:a"))


def test_sql_set_leaves_out_the_checks_of_a_rebuild(tmp_path: Path) -> None:
    plan = _type_change(tmp_path)
    statements = sql_set(plan)
    assert any(s.startswith("CREATE TABLE") for s in statements)
    assert all(" ".join(s.sql.split()) not in statements for s in plan.steps if s.kind != "sql")
    assert len(statements) == sum(1 for s in plan.steps if s.kind == "sql")

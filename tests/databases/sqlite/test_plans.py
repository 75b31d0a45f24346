"""Schema plans from the migrations: a migration file is the unit of what the database lacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.model import IssueType

TWO_TABLES = """\
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id));
CREATE INDEX idx_order_items_order_id ON order_items (order_id);
"""
JOIN = """\
def items(db):
    return db.execute(
        "SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id"
    ).fetchall()
"""


def _project(root: Path, migration: str, applied: str = "") -> FixEngine:
    (root / "migrations").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    (root / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id INTEGER);\n")
    (root / "migrations" / "002_orders.sql").write_text(migration)
    (root / "app.py").write_text(JOIN)
    conn = sqlite3.connect(root / "app.db")
    conn.executescript("CREATE TABLE users (id INTEGER);" + applied)
    conn.close()
    return FixEngine(load_project(root))


def test_both_tables_of_one_file_are_one_plan(tmp_path: Path) -> None:
    engine = _project(tmp_path / "p", TWO_TABLES)
    result = engine.project.check_paths([engine.root])
    missing = [i for i in result.issues if i.type is IssueType.MISSING_TABLE]
    assert {i.table for i in missing} == {"orders", "order_items"}
    plans = {p.id: p for i in missing for p in engine.schema_plans(i)}
    (plan,) = plans.values()  # the issue of either table gets the plan of the whole file
    assert plan.id == "migration:002_orders.sql"
    assert [s.sql.split("(")[0].strip() for s in plan.steps] == [
        "CREATE TABLE orders",
        "CREATE TABLE order_items",
        "CREATE INDEX idx_order_items_order_id ON order_items",
    ]
    # Its dry run verifies the join once both tables are there.
    _, verify = engine.dry_run(plan, missing[0])
    assert verify.ok, verify.failures()


def test_a_file_lacking_one_part_keeps_the_plan_of_that_part(tmp_path: Path) -> None:
    applied = (
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);"
        "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER);"
    )
    engine = _project(tmp_path / "p", TWO_TABLES, applied)
    result = engine.project.check_paths([engine.root])
    drift = [i for i in result.issues if i.type is IssueType.SCHEMA_DRIFT and not i.column_name]
    plans = [p for i in drift for p in engine.schema_plans(i)]
    assert [p.id for p in plans] == ["create_index:idx_order_items_order_id"]

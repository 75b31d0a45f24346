"""Tests of writing an applied schema fix as the project's next migration file; real folders,
real plans, no mocks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.backups import FILES_SUBDIR, restore_files
from dbheal_lsp.databases.sqlite.rebuild import change_type_plan
from dbheal_lsp.fixes.migration_writer import migration_text, next_migration_path, write_migration
from dbheal_lsp.model import MigrationPlan, PlanStep

INDEX = MigrationPlan(
    "create_index:fp-1",
    "create_index",
    "Add index on orders(customer_email)",
    "orders are looked up by customer_email",
    "orders",
    (PlanStep('CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email")'),),
    "the query uses the index",
    migration_name="add_index_orders_customer_email",
)


def _folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in names:
        (folder / name).write_text("-- a migration\n")
    return folder


def test_the_next_migration_has_the_next_number_and_a_slug(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "001_users.sql", "002_orders.sql", "010_items.down.sql")
    assert next_migration_path(folder, "Add index: orders.customer_email!") == (
        folder / "003_add_index_orders_customer_email.sql"
    )
    # A name with nothing to slug still names a file.
    assert next_migration_path(folder, "!!!").name == "003_dbheal_fix.sql"


def test_the_number_is_as_wide_as_the_folders(tmp_path: Path) -> None:
    wide = _folder(tmp_path, "0009_a.sql", "0010_b.sql")
    assert next_migration_path(wide, "c").name == "0011_c.sql"
    # "2_x" sorts before "10_x": the number is the largest, not the last listed.
    narrow = tmp_path / "narrow"
    narrow.mkdir()
    for name in ("2_a.sql", "10_b.sql"):
        (narrow / name).write_text("")
    assert next_migration_path(narrow, "c").name == "11_c.sql"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert next_migration_path(empty, "first").name == "001_first.sql"


def test_the_file_says_what_it_does_and_runs(tmp_path: Path) -> None:
    text = migration_text(INDEX, "20261204T031500-ab12")
    lines = text.splitlines()
    assert lines[0] == "-- Add index on orders(customer_email)"
    assert lines[1].startswith("-- Written by dbheal (fix 20261204T031500-ab12, ")
    assert lines[1].endswith("): orders are looked up by customer_email")
    assert lines[-1] == 'CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email");'
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT)")
    conn.executescript(text)
    assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == [
        ("idx_orders_customer_email",)
    ]
    conn.close()


def test_a_rebuild_says_it_runs_with_foreign_keys_off_and_leaves_its_checks_out() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_id TEXT)")
    plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    conn.close()
    text = migration_text(plan, "f")
    assert plan.foreign_keys_off
    assert "-- Run with PRAGMA foreign_keys=OFF outside a transaction" in text
    assert all(step.sql not in text for step in plan.steps if step.kind != "sql")


def test_a_written_migration_is_removed_by_restoring_its_backup(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "001_users.sql")
    backup = tmp_path / ".dbheal" / "backups" / "f1"
    path = write_migration(tmp_path, folder, INDEX, "f1", backup)
    assert path == folder / "002_add_index_orders_customer_email.sql"
    assert path.read_text().startswith("-- Add index on orders(customer_email)\n")
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    restore_files(tmp_path, backup / FILES_SUBDIR, ["migrations/" + path.name])
    assert not path.exists()
    assert (folder / "001_users.sql").exists()

"""Tests of SQLite's schema-fix back end: why a file cannot be changed, its backups and their
restore, the fingerprint that says whether it changed since a fix, and a fix's inverse; real
files, a real lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases.schema_fixes import NoInverse, SchemaFixes
from dbheal_lsp.databases.sqlite.schema_fixes import SqliteSchemaFixes
from dbheal_lsp.model import MigrationPlan, PlanStep

FIXES: SchemaFixes = SqliteSchemaFixes()

INDEX = MigrationPlan(
    "create_index:fp",
    "create_index",
    "Add index on orders(email)",
    "",
    "orders",
    (PlanStep("CREATE INDEX idx_orders_email ON orders (email)"),),
    "",
)


def _shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT);"
        "INSERT INTO orders VALUES (1, 'a@x'), (2, 'b@x');"
    )
    conn.close()
    return path


def _write(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_why_a_file_cannot_be_changed(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert FIXES.write_problem(db) == f"database file not found: {db}"
    _shop(db)
    assert FIXES.write_problem(db) is None
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    tx = FIXES.open_for_fix(db, lock_timeout=0.05, cache_kib=0, foreign_keys_off=False)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            tx.begin()
    finally:
        tx.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert FIXES.blocks(raised.value)
    assert FIXES.error_message(raised.value, db) == (
        f"database is locked by another connection: {db}"
    )
    assert not FIXES.blocks(ValueError("no such table"))


def test_a_backup_restored_puts_back_the_rows_and_says_what_it_drops(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    copy = FIXES.backup(db, tmp_path / "backup", timeout=1.0)
    before = FIXES.summary(db)
    _write(db, "INSERT INTO orders VALUES (3, 'c@x')")
    assert FIXES.summary(db)["orders"][1] == 3
    assert FIXES.losses(copy, db) == (
        "restoring would drop 1 row in orders written since the fix",
        "restoring dropped 1 row in orders written since the fix",
    )
    FIXES.restore(copy, db, timeout=1.0)
    assert FIXES.summary(db) == before


def test_the_fingerprint_changes_with_any_write_after_the_fix(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    folder = tmp_path / "backup"
    folder.mkdir()
    assert FIXES.stored_fingerprint(folder) is None
    FIXES.remember_after_fix(db, folder, timeout=1.0)
    stored = FIXES.stored_fingerprint(folder)
    assert stored == FIXES.fingerprint(db, timeout=1.0)
    _write(db, "UPDATE orders SET email = 'z@x' WHERE id = 1")
    assert FIXES.fingerprint(db, timeout=1.0) != stored


def test_the_inverse_of_an_index_drops_it(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    copy = FIXES.backup(db, tmp_path / "backup", timeout=1.0)
    _write(db, INDEX.steps[0].sql)
    inverse = FIXES.inverse(db, copy, [INDEX], fix_id="f1")
    assert [u.label for u in inverse.undoes] == ["index idx_orders_email"]
    assert "DROP INDEX" in inverse.plan.sql
    tx = FIXES.open_for_fix(db, lock_timeout=1.0, cache_kib=0, foreign_keys_off=False)
    try:
        tx.begin()
        assert not inverse.check(tx).ok  # not dropped yet
        for step in inverse.plan.steps:
            tx.execute(step.sql)
        assert inverse.check(tx).ok
    finally:
        tx.close()
    with pytest.raises(NoInverse, match="no schema plan"):
        FIXES.inverse(db, copy, [], fix_id="f2")


def test_lossy_values_and_the_version_are_read_from_the_file(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    _write(db, "INSERT INTO orders VALUES (3, 'not a number')")
    plan = MigrationPlan(
        "change_type:fp",
        "change_type",
        "orders.email to INTEGER",
        "",
        "orders",
        (),
        "",
        column="email",
        new_type="INTEGER",
    )
    report = FIXES.lossy_report(db, plan)
    assert (report.lossy_count, report.total_rows) == (3, 3)
    assert FIXES.schema_version(db) > 0

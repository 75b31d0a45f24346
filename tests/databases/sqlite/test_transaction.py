"""Tests of a schema fix's transaction on SQLite: the file's settings for the fix and after it,
the write lock, and the in-memory copy of a schema for dry runs; real files, a real lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases.sqlite.transaction import (
    connection_of,
    open_for_fix,
    schema_copy,
)

SCHEMA = (
    "CREATE TABLE users (id INTEGER PRIMARY KEY);"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));"
    "CREATE VIEW order_users AS SELECT o.id, u.id AS uid FROM orders o JOIN users u "
    "ON u.id = o.user_id;"
    "INSERT INTO users VALUES (1); INSERT INTO orders VALUES (1, 1);"
)


def _shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.close()
    return path


def test_a_plan_that_asks_runs_with_foreign_keys_off(tmp_path: Path) -> None:
    # A rebuild drops and renames a table others reference: with the keys enforced, SQLite
    # would refuse (or cascade). The executor's check of the keys comes after the last step.
    db = _shop(tmp_path / "shop.db")
    tx = open_for_fix(db, lock_timeout=1.0, foreign_keys_off=True)
    try:
        conn = connection_of(tx)
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
        tx.begin()
        tx.execute("DROP TABLE users")
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1,)
    finally:
        tx.close()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")  # closed, the drop rolled back
    check = sqlite3.connect(db)
    assert check.execute("SELECT count(*) FROM users").fetchone() == (1,)
    check.close()


def test_close_rolls_back_what_was_not_committed(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    tx = open_for_fix(db, lock_timeout=1.0)
    version = tx.begin()
    tx.execute("CREATE TABLE extra (a)")
    assert tx.schema_version() == version + 1
    tx.close()
    conn = sqlite3.connect(db)
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "extra" not in names


def test_begin_waits_for_the_write_lock_then_fails(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    tx = open_for_fix(db, lock_timeout=0.1)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            tx.begin()
    finally:
        tx.close()
        holder.execute("ROLLBACK")
        holder.close()


def test_the_schema_copy_has_every_object_and_no_row(tmp_path: Path) -> None:
    db = _shop(tmp_path / "shop.db")
    copy, version = schema_copy(db, 1.0)
    try:
        conn = connection_of(copy)
        names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
        assert names == {"users", "orders", "order_users"}
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        copy.begin()
        copy.execute("DROP VIEW order_users")
    finally:
        copy.close()
    source = sqlite3.connect(db)
    assert source.execute("PRAGMA schema_version").fetchone() == (version,)
    source.close()


def test_connection_of_takes_only_a_sqlite_transaction() -> None:
    class Other:
        def execute(self, sql: str, /) -> object:
            return None

    with pytest.raises(TypeError, match="not a SQLite transaction: Other"):
        connection_of(Other())  # type: ignore[arg-type]

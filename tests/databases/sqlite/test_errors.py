"""Tests of why a database cannot be changed: real files, real permissions, a real lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.databases.sqlite.errors import (
    connection_error,
    file_problem,
    is_busy,
    is_read_only,
)


def test_file_problem_names_a_missing_file_a_folder_and_a_read_only_file(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert file_problem(db) == f"database file not found: {db}"
    assert file_problem(tmp_path) == f"{tmp_path} is a directory, not a SQLite database file"
    sqlite3.connect(db).close()
    assert file_problem(db) is None
    db.chmod(0o444)
    try:
        # Read from the permission bits, so that root is refused too.
        assert file_problem(db) == f"database is read-only: {db}"
    finally:
        db.chmod(0o644)


def test_a_locked_database_is_named_as_locked(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (a)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            error = exc
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert is_busy(error) and not is_read_only(error)
    assert connection_error(error, db) == f"database is locked by another connection: {db}"


def test_a_read_only_connection_is_named_read_only(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    sqlite3.connect(db).close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        try:
            conn.execute("CREATE TABLE t (a)")
        except sqlite3.OperationalError as exc:
            error = exc
    finally:
        conn.close()
    assert is_read_only(error) and not is_busy(error)
    assert connection_error(error, db) == f"database is read-only: {db}"
    other = sqlite3.OperationalError("no such table: t")
    assert connection_error(other, db) == f"cannot use database {db}: no such table: t"

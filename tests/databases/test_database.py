"""The database seam: its error (one line for the user), its protocols (the SQLite back end
keeps them) and its values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases.database import Database, ForeignKeyViolation, Judge, Ran, SchemaError
from dbheal_lsp.databases.sqlite.database import SqliteDatabase
from dbheal_lsp.databases.sqlite.live_db import open_read_only


def test_schema_error_keeps_the_line_meant_for_the_user() -> None:
    error = SchemaError("database file not found: app.db")
    assert error.message == "database file not found: app.db"
    assert str(error) == "database file not found: app.db"


def test_the_sqlite_back_end_raises_the_seams_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="database file not found"):
        open_read_only(tmp_path / "missing.db")


def test_the_sqlite_back_end_is_a_database_and_its_judge_a_judge(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    conn.close()
    database: Database = SqliteDatabase(db)  # mypy checks the protocol here
    judge: Judge = database.judge(database.live_schema())
    try:
        with judge.undone("trial"):
            assert judge.run("CREATE TABLE scratch (a INT)") == Ran("ran")
        assert judge.verdict("SELECT a FROM scratch").kind == "no_table"
    finally:
        judge.close()
        database.close()


def test_a_foreign_key_violation_reads_as_a_sentence() -> None:
    assert str(ForeignKeyViolation("orders", 2, "users", 0)) == (
        "orders rowid 2 refers to a missing users row"
    )
    assert str(ForeignKeyViolation("tags", None, "posts", 1)) == (
        "tags a row refers to a missing posts row"
    )

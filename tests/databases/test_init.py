"""The seam package: `DatabaseError` catches what the SQLite driver raises, `open_database`
chooses the back end, `complete_statement` says where a statement ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.config import Config
from dbheal_lsp.databases import (
    DatabaseError,
    complete_statement,
    open_database,
    open_database_file,
)
from dbheal_lsp.databases.sqlite.live_db import open_read_only


def test_database_error_catches_a_driver_error_from_a_real_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a header and nothing sane after it
    with pytest.raises(DatabaseError):
        open_read_only(db).execute("SELECT * FROM sqlite_master").fetchall()


def test_open_database_gives_the_sqlite_back_end_of_the_configured_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    conn.close()
    database = open_database(Config(root=tmp_path, database=db))
    try:
        assert database.has_live
        assert set(database.live_schema().tables) == {"users"}
    finally:
        database.close()
    assert not open_database(Config(root=tmp_path)).has_live
    other = open_database_file(db)
    assert set(other.live_schema().tables) == {"users"}
    other.close()


def test_complete_statement_keeps_a_trigger_body_whole() -> None:
    trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1;"
    assert not complete_statement(trigger)
    assert complete_statement(trigger + " END;")
    assert complete_statement("SELECT ';';") and not complete_statement("SELECT 1")

"""The live database's state the watcher compares (dbheal_lsp/lsp/db_state.py): a schema change
changes it, a data write does not, and a locked, missing or broken file says so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.lsp.db_state import LOCKED, read_db_state


def run_sql(path: Path, sql: str) -> None:
    """Run `sql` on the database at `path` in a connection of its own, as an application does."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(sql)
    finally:
        conn.close()


def test_a_schema_change_changes_the_state_and_a_data_write_does_not(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    run_sql(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    before = read_db_state(db)
    assert before[0] == "ok"

    run_sql(db, "INSERT INTO items (name) VALUES ('one')")
    assert read_db_state(db) == before

    run_sql(db, "ALTER TABLE items ADD COLUMN price REAL")
    after = read_db_state(db)
    assert after[0] == "ok" and after != before


def test_a_replaced_file_is_a_new_state_even_with_the_same_schema(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    run_sql(db, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    before = read_db_state(db)
    other = tmp_path / "other.db"
    run_sql(other, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    other.replace(db)
    assert read_db_state(db) != before


def test_a_missing_or_broken_file_says_why(tmp_path: Path) -> None:
    assert read_db_state(tmp_path / "absent.db") == ("missing",)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a SQLite database, but it is long enough to look at" * 4)
    state = read_db_state(junk)
    assert state[0] == "error"


def test_a_database_a_writer_holds_reads_as_locked(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    run_sql(db, "CREATE TABLE items (id INTEGER PRIMARY KEY)")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY)")
        assert read_db_state(db) == LOCKED
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert read_db_state(db)[0] == "ok"

"""Tests of `SqliteDatabase`, the seam's `Database` for SQLite, on real database files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.sqlite.database import SqliteDatabase
from dbheal_lsp.model import Origin
from tests.databases.sqlite.test_replay import write


def make_db(path: Path, script: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()
    return path


def test_the_live_schema_and_its_key_follow_the_file(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY);")
    database = SqliteDatabase(db)
    try:
        assert database.has_live
        assert set(database.live_schema().tables) == {"users"}
        key = database.live_key()
        counter = database.schema_counter(busy_timeout=0.5)
        assert key and database.live_key() == key
        make_db(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY);")
        assert set(database.live_schema().tables) == {"users", "orders"}
        assert database.live_key() not in (key, None)
        assert database.schema_counter(busy_timeout=0.5) > counter
    finally:
        database.close()


def test_without_a_live_database(tmp_path: Path) -> None:
    database = SqliteDatabase(None)
    assert not database.has_live
    assert database.live_key() == ""
    with pytest.raises(SchemaError):
        database.live_schema()
    missing = SqliteDatabase(tmp_path / "missing.db")
    assert missing.live_key() is None  # the full read says why
    with pytest.raises(SchemaError, match="not found"):
        missing.live_schema()


def test_integrity_finds_a_foreign_key_violation(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));"
        "INSERT INTO users VALUES (1); INSERT INTO orders VALUES (1, 1), (2, 7);",
    )
    checked = SqliteDatabase(db).integrity(full=True, busy_timeout=0.5, max_rows=10)
    assert checked.lines == ("ok",)
    assert checked.violation_count == 1
    assert [str(v) for v in checked.violations] == ["orders rowid 2 refers to a missing users row"]


def test_the_write_lock_is_free_unless_another_connection_holds_it(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db", "CREATE TABLE t (a INT);")
    database = SqliteDatabase(db)
    assert database.write_lock_free(wait=0)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert not database.write_lock_free(wait=0)
    finally:
        holder.close()
    (tmp_path / "junk.db").write_bytes(b"this is not a database at all" * 40)
    with pytest.raises(DatabaseError):
        SqliteDatabase(tmp_path / "junk.db").write_lock_free(wait=0)


def test_migrations_code_ddl_and_a_judge(tmp_path: Path) -> None:
    write(tmp_path / "migrations", "001.sql", "CREATE TABLE users (id INTEGER, email TEXT);\n")
    database = SqliteDatabase(None, migrations_root=tmp_path)
    migrations = database.migrations(tmp_path / "migrations")
    assert database.migrations(tmp_path / "migrations") is migrations  # cached
    assert set(migrations.schema.tables) == {"users"}
    code = database.schema_from_ddl([("CREATE TABLE notes (body TEXT)", Origin("app.py", 3))])
    assert code.source == "code" and set(code.tables) == {"notes"}
    judge = database.judge(migrations.schema)
    try:
        assert judge.verdict("SELECT email FROM users").kind == "ok"
        assert judge.verdict("SELECT body FROM notes").kind == "no_table"
    finally:
        judge.close()


def test_another_database_file_of_the_project(tmp_path: Path) -> None:
    db = make_db(tmp_path / "cache.db", "CREATE TABLE entries (k TEXT);")
    other = SqliteDatabase(None).other(db)
    try:
        assert set(other.live_schema().tables) == {"entries"}
    finally:
        other.close()

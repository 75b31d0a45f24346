"""Tests of reading a schema from SQLite connections, and of the judge's scratch copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.sqlite.catalog import is_busy, oracle_connection, schema_from_connection
from dbheal_lsp.databases.sqlite.live_db import LiveDatabase
from dbheal_lsp.model import Origin
from tests.analysis.test_schema import make_db


@pytest.fixture
def shop(tmp_path: Path) -> Schema:
    with LiveDatabase(make_db(tmp_path / "shop.db")) as db:
        return db.schema()


def test_ddl_order_and_replay(shop: Schema) -> None:
    kinds = [statement.split()[1].upper() for statement in shop.ddl]
    assert kinds == ["TABLE"] * 5 + ["INDEX", "UNIQUE", "INDEX", "VIEW", "TRIGGER"]
    assert not any("sqlite_" in statement for statement in shop.ddl)

    oracle = oracle_connection(shop)
    try:
        copy = schema_from_connection(oracle, "database")
    finally:
        oracle.close()
    assert copy.ddl == shop.ddl
    assert copy.tables == shop.tables
    assert copy.indexes == shop.indexes
    assert copy.version == shop.version


def test_oracle_skips_statements_that_fail(tmp_path: Path) -> None:
    script = "CREATE VIRTUAL TABLE docs USING fts5(body); CREATE TABLE plain (a INT);"
    with LiveDatabase(make_db(tmp_path / "fts.db", script)) as db:
        schema = db.schema()
    # The fts5 shadow tables are in the DDL but already exist once "docs" is created.
    assert schema.table("docs_data") is not None
    broken = Schema(ddl=(*schema.ddl, "CREATE TABLE nonsense ("), source="database", version="x")
    oracle = oracle_connection(broken)
    try:
        names = {row[0] for row in oracle.execute("SELECT name FROM sqlite_master")}
        oracle.execute("SELECT body FROM docs WHERE docs MATCH 'x'").fetchall()
    finally:
        oracle.close()
    assert {"docs", "docs_data", "plain"} <= names


def test_origins_are_attached(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE t (a INT, b INT UNIQUE); CREATE INDEX i ON t(a);")
    origins = {
        ("table", "t"): Origin("m.sql", 1),
        ("column", "t", "a"): Origin("m.sql", 2),
        ("index", "i"): Origin("m.sql", 5),
    }
    schema = schema_from_connection(conn, "migrations", origins)
    plain = schema_from_connection(conn, "migrations")
    conn.close()
    table = schema.table("t")
    assert table is not None
    assert table.origin == Origin("m.sql", 1)
    assert [c.origin for c in table.columns] == [Origin("m.sql", 2), Origin("m.sql", 1)]
    assert schema.indexes["i"].origin == Origin("m.sql", 5)
    assert schema.indexes["sqlite_autoindex_t_1"].origin == Origin("m.sql", 1)
    assert schema.source == "migrations"
    # Moving a definition to another line must invalidate what was cached for the old one.
    assert schema.version != plain.version
    assert schema != plain


def test_a_view_over_a_missing_table_is_kept_without_columns() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE t (a INT); CREATE VIEW v AS SELECT a FROM t;")
    conn.execute("PRAGMA legacy_alter_table = ON")
    conn.execute("DROP TABLE t")
    schema = schema_from_connection(conn, "test")
    conn.close()
    view = schema.table("v")
    assert view is not None and view.is_view and view.columns == ()


def test_a_lock_held_by_another_connection_is_busy(tmp_path: Path) -> None:
    path = make_db(tmp_path / "shop.db", "CREATE TABLE t (a INT);")
    writer = sqlite3.connect(path, isolation_level=None)
    reader = sqlite3.connect(path, timeout=0)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        try:
            reader.execute("SELECT * FROM t").fetchall()
        except sqlite3.Error as exc:
            assert is_busy(exc)
        else:
            raise AssertionError("the exclusive lock did not stop the reader")
    finally:
        writer.close()
        reader.close()
    assert not is_busy(sqlite3.OperationalError("no such table: t"))

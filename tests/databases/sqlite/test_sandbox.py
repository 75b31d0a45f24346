"""The sandbox analysis runs repository SQL in: what its authorizer allows and denies, its budget.

Each denied statement is tried for real (files that would appear are looked for); each allowed
one must build what a migration builds. Budgets are tried with small limits, never timed.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.sqlite.catalog import oracle_connection, schema_from_connection
from dbheal_lsp.databases.sqlite.sandbox import (
    Budget,
    BudgetExceeded,
    Refused,
    Sandbox,
    open_sandbox,
)


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox working in tmp_path, so a relative file it might create lands there."""
    monkeypatch.chdir(tmp_path)
    sandbox = open_sandbox()
    sandbox.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield sandbox
    sandbox.close()


# --- denied -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE 'attached.db' AS other",
        "EXPLAIN ATTACH DATABASE 'attached.db' AS other",
        "VACUUM INTO 'vacuumed.db'",
        "  -- a comment first\nVACUUM INTO 'vacuumed.db'",
        "vacuum",
        "EXPLAIN VACUUM INTO 'vacuumed.db'",
    ],
)
def test_statements_that_write_files_are_refused(box: Sandbox, tmp_path: Path, sql: str) -> None:
    with pytest.raises(Refused) as caught:
        box.run(sql)
    assert caught.value.message.startswith("not run: ")
    assert sorted(os.listdir(tmp_path)) == []


def test_detach_is_refused(box: Sandbox) -> None:
    with pytest.raises(Refused, match="DETACH"):
        box.run("DETACH DATABASE temp")


@pytest.mark.parametrize(
    "sql",
    [
        "PRAGMA writable_schema = 1",
        "EXPLAIN PRAGMA writable_schema = 1",
        "PRAGMA writable_schema = ON",
        "SELECT * FROM pragma_writable_schema",
        "PRAGMA foreign_keys = ON",
        "PRAGMA user_version = 7",
        "PRAGMA max_page_count = 100000000",
        "PRAGMA journal_mode = WAL",
        "PRAGMA temp_store_directory = '/tmp'",
        "PRAGMA trusted_schema",
        "PRAGMA cell_size_check = ON",
    ],
)
def test_pragma_writes_and_unlisted_pragmas_are_refused(box: Sandbox, sql: str) -> None:
    with pytest.raises(Refused, match="PRAGMA"):
        box.run(sql)
    # Above all, the schema cannot be made writable, not even by preparing.
    with pytest.raises(Refused):
        box.run("INSERT INTO sqlite_master VALUES ('table', 'x', 'x', 0, 'VACUUM')")


def test_writable_schema_stays_off_after_explain(box: Sandbox) -> None:
    with pytest.raises(Refused):
        box.explain("PRAGMA writable_schema = 1")
    # Were it on, this would succeed and plant a statement for later copies to run.
    with pytest.raises(Refused, match="sqlite_master"):
        box.run(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
            "VALUES ('table', 'evil', 'evil', 0, 'VACUUM INTO ''x.db''')"
        )
    assert [r[0] for r in box.run("SELECT name FROM sqlite_master")] == [
        "users",
        "sqlite_autoindex_users_1",
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE sqlite_master SET sql = 'VACUUM' WHERE name = 'users'",
        "DELETE FROM sqlite_schema WHERE name = 'users'",
        "WITH x AS (SELECT 1) INSERT INTO sqlite_temp_master VALUES ('table','t','t',0,'')",
    ],
)
def test_data_statements_never_write_the_schema_table(box: Sandbox, sql: str) -> None:
    with pytest.raises(Refused, match="sqlite_"):
        box.run(sql)


def test_load_extension_is_refused(box: Sandbox) -> None:
    with pytest.raises(Refused, match="load_extension"):
        box.run("SELECT load_extension('/tmp/evil.so')")


def test_a_refused_statement_leaves_the_sandbox_usable(box: Sandbox) -> None:
    with pytest.raises(Refused):
        box.run("ATTACH 'x.db' AS x")
    box.run("INSERT INTO users (name) VALUES ('ann')")
    assert box.run("SELECT name FROM users") == [("ann",)]


# --- allowed ----------------------------------------------------------------------------------


def test_what_migrations_do_is_allowed(box: Sandbox) -> None:
    statements = [
        "BEGIN",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER "
        "REFERENCES users(id), body TEXT)",
        "CREATE INDEX idx_posts_user ON posts(user_id)",
        "CREATE UNIQUE INDEX idx_posts_body ON posts(body) WHERE body IS NOT NULL",
        "CREATE VIEW named AS SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.user_id",
        "CREATE TRIGGER posts_touch AFTER INSERT ON posts BEGIN "
        "UPDATE posts SET body = body WHERE id = new.id; END",
        "CREATE VIRTUAL TABLE docs USING fts5(title, body)",
        "CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)",
        "CREATE TEMP TABLE scratch (a)",
        "INSERT INTO scratch VALUES (1)",
        "COMMIT",
        "SAVEPOINT s",
        "ALTER TABLE posts ADD COLUMN title TEXT",
        "ALTER TABLE posts RENAME COLUMN title TO headline",
        "ALTER TABLE posts DROP COLUMN headline",
        "ALTER TABLE users RENAME TO people",
        "RELEASE s",
        "INSERT INTO people (name) VALUES ('ann'), ('bob')",
        "INSERT INTO posts (user_id, body) SELECT id, 'hi ' || name FROM people",
        "UPDATE posts SET body = upper(body)",
        "DELETE FROM posts WHERE body LIKE '%BOB'",
        "INSERT INTO docs (title, body) VALUES ('a', 'b')",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) "
        "INSERT INTO scratch SELECT x FROM c",
        "REINDEX",
        "DROP TRIGGER posts_touch",
        "DROP VIEW named",
        "DROP INDEX idx_posts_body",
        "DROP TABLE boxes",
        "DROP TABLE scratch",
    ]
    for sql in statements:
        box.run(sql)
    schema = schema_from_connection(box.connection, "test")
    assert {"people", "posts", "docs"} <= set(schema.tables)
    assert "idx_posts_user" in schema.indexes
    assert schema.table("posts") is not None
    assert schema.table("posts").column_names == ("id", "user_id", "body")  # type: ignore[union-attr]
    assert box.run("SELECT body FROM posts") == [("HI ANN",)]
    assert box.run("SELECT count(*) FROM sqlite_sequence") == [(1,)]


@pytest.mark.parametrize(
    "sql",
    [
        "PRAGMA table_info(users)",
        "PRAGMA main.table_xinfo('users')",
        "PRAGMA index_list(users)",
        "PRAGMA index_info(sqlite_autoindex_users_1)",
        "PRAGMA index_xinfo(sqlite_autoindex_users_1)",
        "PRAGMA foreign_key_list(users)",
        "PRAGMA schema_version",
        "PRAGMA user_version",
        "PRAGMA foreign_keys",
        "PRAGMA foreign_key_check",
        "PRAGMA integrity_check(10)",
        "PRAGMA quick_check",
        "SELECT * FROM pragma_table_xinfo('users', 'main')",
        "SELECT * FROM pragma_index_list('users')",
    ],
)
def test_reading_pragmas_are_allowed(box: Sandbox, sql: str) -> None:
    assert isinstance(box.run(sql), list)


def test_explain_judges_without_running(box: Sandbox) -> None:
    box.explain("INSERT INTO users (name) VALUES ('ann')")
    assert box.run("SELECT count(*) FROM users") == [(0,)]
    with pytest.raises(Exception, match="no such table: nope"):
        box.explain("SELECT * FROM nope")
    rows = box.query("EXPLAIN QUERY PLAN SELECT * FROM users WHERE name = 'x'")
    assert any("USING" in str(row[3]) for row in rows)


def test_schema_can_be_read_from_the_connection(box: Sandbox) -> None:
    schema = schema_from_connection(box.connection, "test")
    assert schema.table("users") is not None
    assert schema.indexes["sqlite_autoindex_users_1"].unique


# --- the budget -------------------------------------------------------------------------------

FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "


def test_a_statement_that_runs_for_ever_is_stopped() -> None:
    with closing(open_sandbox(Budget(deadline=0.2))) as box:
        box.run("CREATE TABLE t (x INTEGER)")
        with pytest.raises(BudgetExceeded, match=r"stopped after 0.2 s"):
            box.run(FOREVER + "SELECT max(x) FROM c")
        with pytest.raises(BudgetExceeded, match=r"stopped after 0.2 s"):
            box.run("CREATE TABLE n AS " + FOREVER + "SELECT x FROM c")
        # The next statement has its own deadline, and works.
        box.run("INSERT INTO t VALUES (1)")
        assert box.run("SELECT x FROM t") == [(1,)]


def test_a_database_that_grows_past_the_cap_is_stopped() -> None:
    with closing(open_sandbox(Budget(deadline=600, size_cap=1024 * 1024))) as box:
        box.run("CREATE TABLE t (x)")
        with pytest.raises(BudgetExceeded, match=r"grew past 1 MiB"):
            box.run("INSERT INTO t " + FOREVER + "SELECT randomblob(1000) FROM c")
        with pytest.raises(BudgetExceeded, match=r"grew past 1 MiB"):
            box.run("CREATE TEMP TABLE u AS " + FOREVER + "SELECT randomblob(1000) FROM c")
        box.run("INSERT INTO t VALUES (1)")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Connection.setlimit is new in 3.11")
def test_a_value_longer_than_the_cap_is_stopped() -> None:
    with closing(open_sandbox(Budget(max_length=1000))) as box:
        with pytest.raises(BudgetExceeded, match=r"value grew past 1000 bytes"):
            box.run("SELECT zeroblob(5000)")
        with pytest.raises(BudgetExceeded, match=r"value grew past"):
            box.run("SELECT hex(zeroblob(800))")


# --- the schema copy the checks prepare against -------------------------------------------------


def test_the_schema_copy_runs_only_create_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    planted = Schema(
        ddl=(
            "CREATE TABLE a (x)",
            "VACUUM INTO 'vacuumed.db'",
            f"ATTACH DATABASE '{tmp_path / 'attached.db'}' AS y",
            "PRAGMA writable_schema = 1",
            "INSERT INTO a VALUES (1)",
            "/* a comment */ -- and another\n  create table b (y)",
            "CREATE TABLE c AS " + FOREVER + "SELECT x FROM c",
        ),
        source="database",
        version="planted",
    )
    copy = oracle_connection(planted)
    try:
        assert isinstance(copy, Sandbox)
        names = [r[0] for r in copy.execute("SELECT name FROM sqlite_master ORDER BY name")]
        assert names == ["a", "b"]
        assert copy.execute("SELECT count(*) FROM a").fetchone() == (0,)
        # Even around `run`, the authorizer holds on the connection itself.
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            copy.execute("PRAGMA writable_schema = 1")
    finally:
        copy.close()
    assert sorted(os.listdir(tmp_path)) == []

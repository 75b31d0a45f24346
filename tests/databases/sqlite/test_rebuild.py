"""The type-change plan (`databases/sqlite/rebuild.py`): SQLite's own rebuild procedure as steps."""

from __future__ import annotations

import sqlite3

import pytest

from dbheal_lsp.databases.sqlite.rebuild import change_type_plan, lossy_mode
from tests.fixes.rebuild_shop import shop_connection


def test_change_type_plan_follows_sqlites_procedure() -> None:
    conn = shop_connection()
    plan = change_type_plan(
        conn, "sessions", "user_id", "INTEGER", issue_fingerprint="fp1", check_sql=("SELECT 1",)
    )
    assert plan.kind == "change_type"
    assert plan.id == "change_type:fp1"
    assert plan.foreign_keys_off is True
    assert plan.migration_name == "change_sessions_user_id_to_integer"
    assert plan.schema_version == conn.execute("PRAGMA schema_version").fetchone()[0]
    assert (plan.table, plan.column, plan.new_type) == ("sessions", "user_id", "INTEGER")
    assert plan.check_sql == ("SELECT 1",)
    kinds = [s.kind for s in plan.steps]
    sqls = [s.sql for s in plan.steps]
    assert sqls[0].startswith("CREATE TABLE new_sessions (")
    assert "user_id INTEGER NOT NULL REFERENCES users(id),  -- text by mistake" in sqls[0]
    assert sqls[1] == (
        'INSERT INTO "new_sessions" ("id", "user_id", "token", "seen") '
        'SELECT "id", "user_id", "token", "seen" FROM "sessions"'
    )
    assert "sqlite_sequence" in sqls[2] and "sqlite_sequence" in sqls[3]
    verify = kinds.index("verify_copy")
    assert verify == 4
    drop = sqls.index('DROP TABLE "sessions"')
    # The trigger of another table that reads sessions, and both views (one reads the other),
    # are dropped before the table and made again after the rename, in their original order.
    assert sqls[verify + 1 : drop] == [
        'DROP TRIGGER "events_touch"',
        'DROP VIEW "busy_users"',
        'DROP VIEW "user_sessions"',
    ]
    assert sqls[drop + 1] == 'ALTER TABLE "new_sessions" RENAME TO "sessions"'
    master = dict(conn.execute("SELECT name, sql FROM sqlite_master").fetchall())
    assert sqls[drop + 2 :] == [
        master[name]
        for name in (
            "sessions_user",
            "sessions_audit",
            "user_sessions",
            "busy_users",
            "events_touch",
        )
    ]
    assert lossy_mode(plan) == "refuse"
    assert plan.steps[verify].sql == (
        'compare every row of "sessions" with "new_sessions"; lossy values refused'
    )
    assert "-- verify_copy: compare every row" in plan.sql
    keep = change_type_plan(conn, "sessions", "user_id", "INTEGER", on_lossy="keep")
    assert lossy_mode(keep) == "keep"
    assert keep.steps[1] == plan.steps[1]


def test_change_type_plan_can_null_lossy_values() -> None:
    plan = change_type_plan(shop_connection(), "sessions", "user_id", "INTEGER", on_lossy="null")
    assert "CASE WHEN" in plan.steps[1].sql
    assert lossy_mode(plan) == "null"


def test_change_type_plan_leaves_generated_columns_to_sqlite() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE g (a TEXT, b INTEGER GENERATED ALWAYS AS (a * 2) STORED, c AS (a || '!'))"
    )
    plan = change_type_plan(conn, "g", "a", "INTEGER")
    assert plan.steps[1].sql == 'INSERT INTO "new_g" ("rowid", "a") SELECT "rowid", "a" FROM "g"'


def test_change_type_plan_copies_rowids_unless_a_column_carries_them() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE r (rowid TEXT, v TEXT)")  # "rowid" is a column: use _rowid_
    plan = change_type_plan(conn, "r", "v", "INTEGER")
    assert plan.steps[1].sql.startswith('INSERT INTO "new_r" ("_rowid_", "rowid", "v")')
    conn.execute("CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    plan = change_type_plan(conn, "w", "v", "INTEGER")
    assert plan.steps[1].sql == 'INSERT INTO "new_w" ("k", "v") SELECT "k", "v" FROM "w"'


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("CREATE TABLE t (a TEXT)", ("nope", "a", "INTEGER"), "no such table"),
        ("CREATE TABLE t (a TEXT)", ("t", "nope", "INTEGER"), "no column"),
        (
            "CREATE TABLE t (a TEXT); CREATE VIEW v AS SELECT a FROM t",
            ("v", "a", "INT"),
            "v is a view: its column types are those of the tables it reads",
        ),
        ("CREATE TABLE t (a TEXT); CREATE TABLE new_t (a)", ("t", "a", "INTEGER"), "already"),
        ("CREATE TABLE t (a TEXT)", ("t", "a", "INT NOT NULL"), "not a column type"),
        # AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY: SQLite says so at plan time.
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)",
            ("t", "id", "TEXT"),
            "not valid",
        ),
    ],
)
def test_change_type_plan_refuses(setup: str, args: tuple[str, str, str], message: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(setup)
    with pytest.raises(ValueError, match=message):
        change_type_plan(conn, *args)


def test_change_type_plan_cannot_null_a_new_integer_primary_key() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE c (code TEXT PRIMARY KEY, label TEXT)")
    assert (
        change_type_plan(conn, "c", "code", "INTEGER")
        .steps[1]
        .sql.startswith(
            'INSERT INTO "new_c" ("code", "label")'  # the key carries the rowid now
        )
    )
    with pytest.raises(ValueError, match="cannot hold NULL"):
        change_type_plan(conn, "c", "code", "INTEGER", on_lossy="null")


def test_change_type_plan_refuses_an_unknown_lossy_treatment() -> None:
    with pytest.raises(ValueError, match="on_lossy"):
        change_type_plan(shop_connection(), "sessions", "user_id", "INTEGER", on_lossy="maybe")

"""CREATE TABLE surgery (`databases/sqlite/create_table.py`): one column's type replaced, everything else kept."""

from __future__ import annotations

import sqlite3

import pytest

from dbheal_lsp.databases.sqlite.create_table import new_create_sql

# (original CREATE TABLE, column, new type, expected result) — the table is renamed to new_<t>.


CREATE_CASES = [
    pytest.param(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, age TEXT)",
        "age",
        "INTEGER",
        "CREATE TABLE new_users (id INTEGER PRIMARY KEY, age INTEGER)",
        id="plain",
    ),
    pytest.param(
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, age TEXT NOT NULL "
        "DEFAULT '0' CHECK (age <> '') COLLATE NOCASE UNIQUE)",
        "age",
        "INTEGER",
        "CREATE TABLE new_users (id INTEGER PRIMARY KEY AUTOINCREMENT, age INTEGER NOT NULL "
        "DEFAULT '0' CHECK (age <> '') COLLATE NOCASE UNIQUE)",
        id="column-constraints",
    ),
    pytest.param(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
        "v",
        "INT",
        "CREATE TABLE new_t (id INTEGER PRIMARY KEY AUTOINCREMENT, v INT)",
        id="primary-key-autoincrement",
    ),
    pytest.param(
        "CREATE TABLE t (a, b NOT NULL)",
        "b",
        "INTEGER",
        "CREATE TABLE new_t (a, b INTEGER NOT NULL)",
        id="no-type-then-constraint",
    ),
    pytest.param(
        "CREATE TABLE t (a, b NOT NULL)",
        "a",
        "TEXT",
        "CREATE TABLE new_t (a TEXT, b NOT NULL)",
        id="no-type-at-all",
    ),
    pytest.param(
        "CREATE TABLE prices (price DECIMAL(10, 2) NOT NULL, qty INT)",
        "price",
        "REAL",
        "CREATE TABLE new_prices (price REAL NOT NULL, qty INT)",
        id="type-with-arguments",
    ),
    pytest.param(
        "CREATE TABLE prices (price REAL NOT NULL)",
        "price",
        "DECIMAL(12, 4)",
        "CREATE TABLE new_prices (price DECIMAL(12, 4) NOT NULL)",
        id="new-type-with-arguments",
    ),
    pytest.param(
        "CREATE TABLE t (n UNSIGNED BIG INT DEFAULT 0, s VARCHAR(255))",
        "n",
        "TEXT",
        "CREATE TABLE new_t (n TEXT DEFAULT 0, s VARCHAR(255))",
        id="several-words",
    ),
    pytest.param(
        'CREATE TABLE "order items" ("unit price" TEXT, [qty] TEXT, `note` TEXT)',
        "unit price",
        "REAL",
        'CREATE TABLE "new_order items" ("unit price" REAL, [qty] TEXT, `note` TEXT)',
        id="quoted-names",
    ),
    pytest.param(
        'CREATE TABLE "order items" ("unit price" TEXT, [qty] TEXT, `note` TEXT)',
        "QTY",
        "INTEGER",
        'CREATE TABLE "new_order items" ("unit price" TEXT, [qty] INTEGER, `note` TEXT)',
        id="bracket-column-any-case",
    ),
    pytest.param(
        'CREATE TABLE [log] (at TEXT, "say ""hi""" TEXT)',
        'say "hi"',
        "BLOB",
        'CREATE TABLE [new_log] (at TEXT, "say ""hi""" BLOB)',
        id="brackets-and-doubled-quotes",
    ),
    pytest.param(
        'CREATE TABLE "we""ird" (a TEXT)',
        "a",
        "INTEGER",
        'CREATE TABLE "new_we""ird" (a INTEGER)',
        id="quote-inside-table-name",
    ),
    pytest.param(
        "CREATE TABLE t (a TEXT, b INTEGER GENERATED ALWAYS AS (a + 1) STORED, c AS (a || 'x'))",
        "b",
        "REAL",
        "CREATE TABLE new_t (a TEXT, b REAL GENERATED ALWAYS AS (a + 1) STORED, c AS (a || 'x'))",
        id="generated-stored",
    ),
    pytest.param(
        "CREATE TABLE t (a TEXT, c AS (a || 'x'))",
        "c",
        "TEXT",
        "CREATE TABLE new_t (a TEXT, c TEXT AS (a || 'x'))",
        id="generated-without-type",
    ),
    pytest.param(
        "CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (a, b), UNIQUE (b), "
        "FOREIGN KEY (a) REFERENCES p(x) ON DELETE CASCADE, CONSTRAINT ck CHECK (a <> b))",
        "b",
        "INTEGER",
        "CREATE TABLE new_t (a TEXT, b INTEGER, PRIMARY KEY (a, b), UNIQUE (b), "
        "FOREIGN KEY (a) REFERENCES p(x) ON DELETE CASCADE, CONSTRAINT ck CHECK (a <> b))",
        id="table-constraints",
    ),
    pytest.param(
        "CREATE TABLE t (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID, STRICT",
        "v",
        "INTEGER",
        "CREATE TABLE new_t (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT",
        id="without-rowid-strict",
    ),
    pytest.param(
        "CREATE TABLE t (a TEXT CONSTRAINT a_nn NOT NULL, "
        "user_id TEXT REFERENCES users(id) ON DELETE SET NULL)",
        "user_id",
        "INTEGER",
        "CREATE TABLE new_t (a TEXT CONSTRAINT a_nn NOT NULL, "
        "user_id INTEGER REFERENCES users(id) ON DELETE SET NULL)",
        id="named-constraint-and-references",
    ),
    pytest.param(
        "CREATE TABLE t (a TEXT DEFAULT ('x, y'), b TEXT DEFAULT 'it''s (b)', c TEXT)",
        "c",
        "INTEGER",
        "CREATE TABLE new_t (a TEXT DEFAULT ('x, y'), b TEXT DEFAULT 'it''s (b)', c INTEGER)",
        id="strings-with-commas-and-parens",
    ),
    pytest.param(
        "CREATE TABLE t (\n"
        "    id INTEGER PRIMARY KEY,  -- the key (rowid), never reused\n"
        "    /* age, as text: (sadly) */ age   TEXT   NOT NULL,\n"
        "    name TEXT\n"
        ")",
        "age",
        "INTEGER",
        "CREATE TABLE new_t (\n"
        "    id INTEGER PRIMARY KEY,  -- the key (rowid), never reused\n"
        "    /* age, as text: (sadly) */ age   INTEGER   NOT NULL,\n"
        "    name TEXT\n"
        ")",
        id="comments-and-formatting",
    ),
    pytest.param(
        "CREATE TABLE t (text TEXT, \"key\" TEXT /* the key */, 'quoted' TEXT)",
        "text",
        "INTEGER",
        "CREATE TABLE new_t (text INTEGER, \"key\" TEXT /* the key */, 'quoted' TEXT)",
        id="column-named-like-a-type",
    ),
    pytest.param(
        "CREATE TABLE t (text TEXT, \"key\" TEXT /* the key */, 'quoted' TEXT)",
        "quoted",
        "INTEGER",
        "CREATE TABLE new_t (text TEXT, \"key\" TEXT /* the key */, 'quoted' INTEGER)",
        id="column-named-by-a-string",
    ),
    pytest.param(
        "CREATE TABLE IF NOT EXISTS main.t (a TEXT)",
        "a",
        "INTEGER",
        "CREATE TABLE IF NOT EXISTS main.new_t (a INTEGER)",
        id="if-not-exists-and-schema",
    ),
    pytest.param(
        "CREATE TABLE Ünïcode (größe TEXT, x TEXT)",
        "größe",
        "REAL",
        "CREATE TABLE new_Ünïcode (größe REAL, x TEXT)",
        id="non-ascii-exact",
    ),
]


@pytest.mark.parametrize(("before", "column", "new_type", "after"), CREATE_CASES)
def test_new_create_sql(before: str, column: str, new_type: str, after: str) -> None:
    result = new_create_sql(before, column, new_type)
    assert result == after
    # The result is a statement SQLite accepts, and only that column's type changed.
    conn = sqlite3.connect(":memory:")
    conn.execute(before)
    conn.execute(result)
    old_name = conn.execute("SELECT name FROM sqlite_master ORDER BY rowid").fetchone()[0]
    old = conn.execute("SELECT * FROM pragma_table_xinfo(?)", (old_name,)).fetchall()
    new = conn.execute("SELECT * FROM pragma_table_xinfo(?)", ("new_" + old_name,)).fetchall()
    changed = [(o, n) for o, n in zip(old, new, strict=True) if o != n]
    assert len(changed) == 1
    assert changed[0][1][2] == new_type


def test_new_create_sql_can_keep_the_name() -> None:
    sql = 'CREATE TABLE "t" (a TEXT)'
    assert new_create_sql(sql, "a", "INTEGER", rename=False) == 'CREATE TABLE "t" (a INTEGER)'


@pytest.mark.parametrize(
    ("sql", "column", "new_type", "message"),
    [
        ("CREATE TABLE t (a TEXT)", "b", "INTEGER", "no column"),
        ("CREATE TABLE t (a TEXT, CHECK (a <> ''))", "check", "INTEGER", "no column"),
        ("CREATE TABLE t (a TEXT)", "a", "INTEGER NOT NULL", "not a column type"),
        ("CREATE TABLE t (a TEXT)", "a", "INTEGER); DROP TABLE x; --", "not a column type"),
        ("CREATE TABLE t (a TEXT)", "a", "", "not a column type"),
        ("CREATE TABLE t AS SELECT 1 AS a", "a", "INTEGER", "AS SELECT"),
        ("CREATE INDEX i ON t(a)", "a", "INTEGER", "not a CREATE TABLE"),
    ],
)
def test_new_create_sql_refuses(sql: str, column: str, new_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        new_create_sql(sql, column, new_type)

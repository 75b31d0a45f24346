"""Tests of the column-type rebuild: CREATE TABLE surgery, lossy values, the plan, the copy check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.fixes.rebuild import (
    change_type_plan,
    compare_copy,
    lossy_mode,
    lossy_report,
    new_create_sql,
    rewritten_values,
    verify_copy,
)
from dbheal_lsp.model import MigrationPlan

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


# --- lossy values -----------------------------------------------------------------------------


def _values_db(values: list[object], declared: str = "") -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(f"CREATE TABLE v (x {declared})")  # no type: every value stays as it is given
    conn.executemany("INSERT INTO v (x) VALUES (?)", [(value,) for value in values])
    return conn


@pytest.mark.parametrize(
    ("new_type", "lossless", "lossy"),
    [
        pytest.param(
            "INTEGER",
            ["42", "-5", "0", 12.0, 42, None, "9223372036854775807"],
            ["abc", "12.5", "", " 7", "007", "+5", "1e3", 12.5, b"\x00", "9223372036854775808"],
            id="integer",
        ),
        pytest.param(
            "BIGINT",
            ["42"],
            ["4 2"],
            id="integer-affinity",
        ),
        pytest.param(
            "REAL",
            ["12.5", "42", " 7", 42, 1.5, None, 2**53],
            ["abc", "", "12.5abc", "0x10", b"\x01", 2**53 + 1],
            id="real",
        ),
        pytest.param(
            "TEXT",
            ["abc", 42, 12.5, 0.1, None, ""],
            [b"\x00\x01", 0.30000000000000004],
            id="text",
        ),
        pytest.param(
            "NUMERIC",
            ["12.5", "42", 7, 1.5, None],
            ["abc", "", b"\x02"],
            id="numeric",
        ),
        pytest.param("BLOB", ["abc", 1, 1.5, b"\x00", None], [], id="blob"),
    ],
)
def test_lossy_values(new_type: str, lossless: list[object], lossy: list[object]) -> None:
    conn = _values_db(lossless + lossy)
    report = lossy_report(conn, "v", "x", new_type)
    assert report.total_rows == len(lossless) + len(lossy)
    assert report.lossy_count == len(lossy)
    first = len(lossless) + 1
    assert report.first_rowids == tuple(range(first, first + len(lossy)))[:10]
    assert report.examples == tuple(repr(v) for v in lossy)[:10]


def test_lossy_report_of_a_text_column_lists_the_first_rows_in_rowid_order() -> None:
    # An index on the column would give the scan another order; the report keeps rowid order.
    conn = _values_db(["42", "zz", "7", "aa", "", "13"] * 3, "TEXT")
    conn.execute("CREATE INDEX v_x ON v(x)")
    report = lossy_report(conn, "v", "x", "INTEGER", limit=4)
    assert report.lossy_count == 9
    assert report.first_rowids == (2, 4, 5, 8)
    assert report.examples == ("'zz'", "'aa'", "''", "'zz'")
    assert report.lossless is False


def test_lossy_report_shortens_long_examples() -> None:
    conn = _values_db(["x" * 500])
    (example,) = lossy_report(conn, "v", "x", "INTEGER").examples
    assert len(example) == 60
    assert example.endswith("...")


def test_lossy_report_of_a_without_rowid_table_uses_its_integer_key() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE w (k INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID")
    conn.executemany("INSERT INTO w VALUES (?, ?)", [(10, "1"), (20, "x"), (30, "y")])
    report = lossy_report(conn, "w", "x", "INTEGER")
    assert (report.lossy_count, report.first_rowids) == (2, (20, 30))


def test_lossy_report_refuses_unknown_names() -> None:
    conn = _values_db([1])
    with pytest.raises(ValueError, match="no such table"):
        lossy_report(conn, "nope", "x", "INTEGER")
    with pytest.raises(ValueError, match="no column"):
        lossy_report(conn, "v", "nope", "INTEGER")


# --- the plan ---------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id),  -- text by mistake
    token TEXT NOT NULL UNIQUE,
    seen REAL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);
CREATE TRIGGER sessions_audit AFTER DELETE ON sessions
BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;
CREATE VIEW user_sessions AS
    SELECT u.name, s.token FROM sessions AS s JOIN users AS u ON u.id = s.user_id;
CREATE VIEW busy_users AS SELECT name, count(*) AS n FROM user_sessions GROUP BY name;
CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions(id), kind TEXT);
CREATE TRIGGER events_touch AFTER INSERT ON events
BEGIN UPDATE sessions SET seen = 1 WHERE id = new.session_id; END;
CREATE INDEX events_kind ON events(kind);
"""


def _shop(path: Path | str = ":memory:") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)", [(i, f"u{i}") for i in range(5)])
    conn.executemany(
        "INSERT INTO sessions (user_id, token) VALUES (?, ?)",
        [(str(i % 5), f"t{i}") for i in range(20)],
    )
    return conn


def test_change_type_plan_follows_sqlites_procedure() -> None:
    conn = _shop()
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
    plan = change_type_plan(_shop(), "sessions", "user_id", "INTEGER", on_lossy="null")
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
        change_type_plan(_shop(), "sessions", "user_id", "INTEGER", on_lossy="maybe")


# --- verifying the copy -----------------------------------------------------------------------


def _text_db(values: list[str | None]) -> sqlite3.Connection:
    """An in-memory table n (id INTEGER PRIMARY KEY, v TEXT) holding `values`, ids from 1."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO n (v) VALUES (?)", [(value,) for value in values])
    return conn


def _copy_until_verify(conn: sqlite3.Connection, plan: MigrationPlan) -> None:
    """Begin a transaction and run the steps of `plan` before its verify_copy step."""
    conn.execute("BEGIN")
    for step in plan.steps[: [s.kind for s in plan.steps].index("verify_copy")]:
        conn.execute(step.sql)


def test_verify_copy_passes_an_exact_copy_and_counts_lossy_values() -> None:
    conn = _shop()
    conn.execute("UPDATE sessions SET user_id = 'x' || user_id WHERE id IN (3, 4)")
    plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    _copy_until_verify(conn, plan)
    report = verify_copy(conn, plan, lossy_report(conn, "sessions", "user_id", "INTEGER"))
    assert report.ok, report.failures()
    found = compare_copy(conn, plan)
    assert (found.rows, found.lossy_count) == (20, 2)
    conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE new_sessions SET token = 'other' WHERE id = 7",
        "UPDATE new_sessions SET seen = 0.5 WHERE id = 7",
        "UPDATE new_sessions SET user_id = 99 WHERE id = 7",
        "DELETE FROM new_sessions WHERE id = 7",
        "INSERT INTO new_sessions (user_id, token) VALUES (1, 'extra')",
        # The right value, but as a blob: an INTEGER column does not convert blobs.
        "UPDATE new_sessions SET user_id = CAST('2' AS BLOB) WHERE id = 7",
    ],
)
def test_verify_copy_finds_a_changed_row(tamper: str) -> None:
    conn = _shop()
    conn.execute("UPDATE sessions SET user_id = '2' WHERE id = 7")
    plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    _copy_until_verify(conn, plan)
    conn.execute(tamper)
    report = verify_copy(conn, plan, None)
    assert not report.ok
    failed = {c.name: c.detail for c in report.failures()}
    assert failed.keys() & {"copy: row count", "copy: rows equal"}
    if "copy: rows equal" in failed and "extra" not in tamper:
        assert "id = 7" in failed["copy: rows equal"]
    conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    ("on_lossy", "tamper"),
    [
        ("null", "UPDATE new_n SET v = 5 WHERE id = 2"),  # a lossy value not nulled
        ("null", "UPDATE new_n SET v = NULL WHERE id = 3"),  # a lossless value nulled
        ("keep", "UPDATE new_n SET v = NULL WHERE id = 2"),  # a kept lossy value lost
        ("keep", "UPDATE new_n SET v = 4 WHERE id = 3"),
    ],
)
def test_verify_copy_checks_lossy_values_as_the_plan_treats_them(
    on_lossy: str, tamper: str
) -> None:
    conn = _text_db(["1", "x", "3", None])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy=on_lossy)
    _copy_until_verify(conn, plan)
    copied = conn.execute("SELECT v FROM new_n ORDER BY id").fetchall()
    assert copied == [(1,), (None,) if on_lossy == "null" else ("x",), (3,), (None,)]
    lossy = lossy_report(conn, "n", "v", "INTEGER")
    assert lossy.lossy_count == 1
    assert verify_copy(conn, plan, lossy).ok
    assert verify_copy(conn, plan, None).ok
    conn.execute(tamper)
    report = verify_copy(conn, plan, lossy)
    assert [c.name for c in report.failures()] == ["copy: rows equal"]
    conn.execute("ROLLBACK")


def test_verify_copy_compares_the_lossy_count_with_the_report() -> None:
    conn = _text_db(["1", "x"])
    plan = change_type_plan(conn, "n", "v", "INTEGER")
    stale = lossy_report(conn, "n", "v", "INTEGER")
    conn.execute("UPDATE n SET v = 'y' WHERE id = 1")
    _copy_until_verify(conn, plan)
    report = verify_copy(conn, plan, stale)
    assert [c.name for c in report.failures()] == ["copy: lossy values"]
    conn.execute("ROLLBACK")


def test_verify_copy_of_a_without_rowid_table() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE w (a TEXT, b TEXT, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID")
    conn.executemany(
        "INSERT INTO w VALUES (?, ?, ?)", [(f"a{i % 3}", f"b{i}", str(i)) for i in range(30)]
    )
    plan = change_type_plan(conn, "w", "v", "INTEGER")
    _copy_until_verify(conn, plan)
    assert verify_copy(conn, plan, None).ok
    conn.execute("UPDATE new_w SET v = v + 1 WHERE a = 'a1' AND b = 'b4'")
    report = verify_copy(conn, plan, None)
    assert [c.name for c in report.failures()] == ["copy: rows equal"]
    assert "a, b = 'a1', 'b4'" in report.failures()[0].detail
    conn.execute("ROLLBACK")


def test_rewritten_values_names_what_the_new_affinity_converts() -> None:
    conn = _text_db(["007", "1e3", " 5", "0x10", "abc", "12.0", "42", None])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy="keep")
    _copy_until_verify(conn, plan)
    found = rewritten_values(conn, plan)
    # Text that reads as a number is converted by the INTEGER affinity; the rest stays.
    assert found.examples == (
        "id 1: '007' would become 7 (integer)",
        "id 2: '1e3' would become 1000 (integer)",
        "id 3: ' 5' would become 5 (integer)",
        "id 6: '12.0' would become 12 (integer)",
    )
    assert (found.count, found.lossy) == (4, 6)
    conn.execute("ROLLBACK")


def test_rewritten_values_is_empty_when_every_lossy_value_is_kept() -> None:
    conn = _text_db(["abc", "0x10", "", "7"])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy="keep")
    _copy_until_verify(conn, plan)
    found = rewritten_values(conn, plan)
    assert (found.count, found.lossy, found.examples) == (0, 3, ())
    conn.execute("ROLLBACK")

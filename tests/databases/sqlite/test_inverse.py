"""Rollback by the inverse change: a fix applied to a real database, rows written since as an
application would, then rolled back. The later rows all stay; the schema change is undone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.databases.sqlite.inverse import Undo, created_by
from dbheal_lsp.fixes.heal import heal, heal_items
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.fixes.rollback import RollbackError, plan_rollback
from dbheal_lsp.model import MigrationPlan
from dbheal_lsp.records import FixRecord


def _names(db: Path, kind: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,)).fetchall()
    conn.close()
    return {str(r[0]) for r in rows}


def _columns(db: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    conn.close()
    return {str(r[1]): str(r[2]) for r in rows}


def _write(db: Path, *statements: str) -> None:
    """Write as the application does: its own connection, committed."""
    conn = sqlite3.connect(db)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _late_rows(db: Path) -> list[tuple[object, ...]]:
    """The rows the tests write after a fix, in two tables."""
    return _rows(
        db, "SELECT customer_email, status FROM orders WHERE customer_email LIKE 'late%' "
    ) + _rows(db, "SELECT email FROM users WHERE email LIKE 'late%'")


LATE_ORDERS = (
    "INSERT INTO orders (user_id, customer_email, status, created_at) "
    "VALUES (1, 'late1@x.org', 'paid', 1700000000)",
    "INSERT INTO orders (user_id, customer_email, created_at) VALUES (2, 'late2@x.org', 1700000001)",
)
LATE_USER = (
    "INSERT INTO users (email, password_hash, created_at) VALUES ('late@x.org', 'h', 1700000002)"
)


def _apply(engine: FixEngine, kind: str, title_part: str) -> FixRecord:
    result = engine.project.check_paths([engine.root])
    for item in heal_items(engine, result):
        if item.plan.kind == kind and title_part in item.plan.title:
            outcome = engine.apply_schema(item.plan, issue=item.issues[0])
            assert outcome.applied and outcome.record is not None, outcome.message
            return outcome.record
    raise AssertionError(f"no {kind} fix {title_part!r} offered")


def test_rollback_of_an_index_keeps_rows_written_since(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "create_index", "idx_orders_customer_email")
    assert "idx_orders_customer_email" in _names(db, "index")
    _write(db, *LATE_ORDERS)  # the same table
    _write(db, "UPDATE orders SET status = 'shipped' WHERE customer_email = 'late2@x.org'")
    before = _late_rows(db)
    assert len(before) == 2

    preview = plan_rollback(engine.store, shop, fix.id)
    assert preview.method == "inverse"
    assert 'DROP INDEX "idx_orders_customer_email"' in preview.text(shop)

    undo = engine.rollback(fix.id)
    assert "idx_orders_customer_email" not in _names(db, "index")
    assert _late_rows(db) == before
    assert "every row written since the fix is still there" in undo.message
    assert 'DROP INDEX "idx_orders_customer_email"' in undo.plan_text
    assert undo.verify.ok and any("dropped" in c.name for c in undo.verify.checks)


def test_rollback_of_an_added_column_and_its_index_keeps_rows(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "add_column", "tracking_number")
    assert "tracking_number" in _columns(db, "orders")
    _write(db, *LATE_ORDERS, LATE_USER)  # the same table and another one
    before = _late_rows(db)
    assert len(before) == 3

    undo = engine.rollback(fix.id)
    assert "tracking_number" not in _columns(db, "orders")
    assert "idx_orders_tracking_number" not in _names(db, "index")
    assert _late_rows(db) == before
    assert undo.verify.ok, undo.verify
    # The index the fix made on the column goes first: SQLite refuses to drop an indexed column.
    text = undo.plan_text
    assert text.index('DROP INDEX "idx_orders_tracking_number"') < text.index("DROP COLUMN")


def test_rollback_of_a_column_that_holds_values_written_since_is_refused(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "add_column", "tracking_number")
    _write(db, "UPDATE orders SET tracking_number = 'TRK-1' WHERE id = 1")
    with pytest.raises(RollbackError) as refused:
        engine.rollback(fix.id)
    message = str(refused.value)
    assert "orders.tracking_number holds 1 value written since the fix" in message
    assert "rolling back would delete them" in message and "nothing was changed" in message
    assert _rows(db, "SELECT tracking_number FROM orders WHERE id = 1") == [("TRK-1",)]
    stored = engine.store.fix(fix.id)
    assert stored is not None and stored.outcome == "applied"


def test_a_column_sqlite_will_not_drop_is_refused_with_its_reason(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "add_column", "tracking_number")
    # The application indexed the new column itself: not the fix's index, so it stays, and
    # SQLite refuses to drop a column an index uses.
    _write(db, "CREATE INDEX app_orders_tracking ON orders (status, tracking_number)")
    _write(db, *LATE_ORDERS)
    with pytest.raises(RollbackError) as refused:
        engine.rollback(fix.id)
    message = str(refused.value)
    assert "error in index app_orders_tracking after drop column" in message
    assert "nothing was changed" in message
    assert "tracking_number" in _columns(db, "orders")
    assert {"idx_orders_tracking_number", "app_orders_tracking"} <= _names(db, "index")
    assert len(_late_rows(db)) == 2
    stored = engine.store.fix(fix.id)
    assert stored is not None and stored.outcome == "applied"


def test_rollback_of_a_table_drops_it_and_its_trigger_when_empty(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "create_table", "user_preferences")
    assert "user_preferences" in _names(db, "table")
    _write(db, *LATE_ORDERS)  # another table
    before = _late_rows(db)

    undo = engine.rollback(fix.id)
    assert "user_preferences" not in _names(db, "table")
    assert "trg_users_default_preferences" not in _names(db, "trigger")
    assert _late_rows(db) == before
    assert undo.verify.ok, undo.verify


def test_rollback_of_a_table_with_rows_is_refused_and_changes_nothing(shop: Path) -> None:
    db = shop / "shop.db"
    engine = FixEngine(load_project(shop))
    fix = _apply(engine, "create_table", "user_preferences")
    # A new account: the fix's trigger gives it a preferences row.
    _write(db, LATE_USER, "INSERT INTO user_preferences (user_id, theme) VALUES (999, 'dark')")
    with pytest.raises(RollbackError) as refused:
        engine.rollback(fix.id)
    assert (
        "user_preferences has 2 rows written since the fix; rolling back would delete them"
        in str(refused.value)
    )
    assert "user_preferences" in _names(db, "table")
    assert "trg_users_default_preferences" in _names(db, "trigger")
    assert len(_rows(db, "SELECT * FROM user_preferences")) == 2
    assert _rows(db, "SELECT email FROM users WHERE email = 'late@x.org'") == [("late@x.org",)]
    stored = engine.store.fix(fix.id)
    assert stored is not None and stored.outcome == "applied"
    assert not [f for f in engine.store.fixes() if f.rollback_of == fix.id]


TYPE_CODE = """import sqlite3

db = sqlite3.connect("app.db")


def tokens(user_id):
    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))
"""


def _type_project(tmp_path: Path) -> FixEngine:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    conn = sqlite3.connect(root / "app.db")
    conn.executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);"
        "CREATE INDEX idx_sessions_user_id ON sessions(user_id);"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);"
        "INSERT INTO sessions VALUES ('a', '1', 't1'), ('b', '22', 't2');"
    )
    conn.close()
    (root / "app.py").write_text(TYPE_CODE)
    return FixEngine(load_project(root))


def _change_type(engine: FixEngine) -> FixRecord:
    (item,) = heal_items(engine, engine.project.check_paths([engine.root]))
    (outcome,) = heal(engine, [item])
    assert outcome.applied and outcome.record is not None, outcome.message
    return outcome.record


def test_rollback_of_a_type_change_is_the_reverse_rebuild(tmp_path: Path) -> None:
    engine = _type_project(tmp_path)
    db = engine.root / "app.db"
    fix = _change_type(engine)
    assert _columns(db, "sessions")["user_id"] == "INTEGER"
    _write(
        db,
        "INSERT INTO sessions VALUES ('c', 333, 't3')",  # the same table
        "INSERT INTO audit (what) VALUES ('login c')",  # another one
    )
    preview = plan_rollback(engine.store, engine.root, fix.id)
    assert "user_id TEXT" in preview.text(engine.root)

    undo = engine.rollback(fix.id)
    assert _columns(db, "sessions")["user_id"] == "TEXT"
    assert _rows(db, "SELECT id, user_id, typeof(user_id) FROM sessions ORDER BY id") == [
        ("a", "1", "text"),
        ("b", "22", "text"),
        ("c", "333", "text"),
    ]
    assert _rows(db, "SELECT what FROM audit") == [("login c",)]
    assert "idx_sessions_user_id" in _names(db, "index")
    assert "(int(user_id),)" in (engine.root / "app.py").read_text()  # the code fix undone too
    assert undo.verify.ok, undo.verify
    assert any(c.name == "column sessions.user_id is TEXT again" for c in undo.verify.checks)


def test_rollback_of_a_type_change_refuses_values_that_do_not_convert_back(
    tmp_path: Path,
) -> None:
    engine = _type_project(tmp_path)
    db = engine.root / "app.db"
    fix = _change_type(engine)
    _write(db, "INSERT INTO sessions VALUES ('c', X'00ff', 't3')")
    code = (engine.root / "app.py").read_text()
    with pytest.raises(RollbackError) as refused:
        engine.rollback(fix.id)
    assert "1 value of sessions.user_id would not convert back to TEXT losslessly" in str(
        refused.value
    )
    assert _columns(db, "sessions")["user_id"] == "INTEGER"
    assert _rows(db, "SELECT count(*) FROM sessions") == [(3,)]
    assert (engine.root / "app.py").read_text() == code


@pytest.mark.parametrize(
    ("sql", "made"),
    [
        ('CREATE UNIQUE INDEX IF NOT EXISTS "a b" ON t (x)', Undo("index", "a b")),
        ("create table main.t (x)", Undo("table", "t")),
        ("-- c\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", Undo("trigger", "tr")),
        ("CREATE VIEW [v] AS SELECT 1", Undo("view", "v")),
        ("ALTER TABLE `t` ADD COLUMN c TEXT", Undo("column", "c", "t")),
        ("ALTER TABLE t ADD c", Undo("column", "c", "t")),
        ("ALTER TABLE t RENAME TO u", None),
        ("UPDATE t SET x = 1", None),
        ("CREATE TEMP TABLE t (x)", None),
    ],
)
def test_what_a_statement_creates(sql: str, made: Undo | None) -> None:
    assert created_by(sql) == made


def test_a_fix_with_a_data_step_has_no_inverse(shop: Path) -> None:
    """Such a fix can only be undone by a restore: see tests/fixes/test_rollback.py."""
    from dbheal_lsp.databases.sqlite.inverse import NoInverse, inverse_plan
    from dbheal_lsp.model import PlanStep

    plan = MigrationPlan(
        id="x",
        kind="create_table",
        title="seed",
        description="",
        table="users",
        steps=(PlanStep("UPDATE users SET is_admin = 0"),),
        expected="",
    )
    conn = sqlite3.connect(shop / "shop.db")
    try:
        with pytest.raises(NoInverse, match="UPDATE users"):
            inverse_plan(conn, [plan], fix_id="f")
    finally:
        conn.close()

"""Tests of heal: which fixes it applies, blocks or refuses, on real projects and databases,
through the engine and through `dbheal heal` (killed at any moment too); no mocks."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.fixes.heal import heal, heal_items
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.model import IssueType
from tests.fixes.fix_projects import (
    BOTH,
    big_project,
    columns,
    names,
    small_project,
    state_of,
    types,
)


def test_heal_applies_safe_fixes_and_refuses_the_rest(shop: Path) -> None:
    project = load_project(shop)
    engine = FixEngine(project)
    result = project.check_paths([shop])
    items = heal_items(engine, result)
    titles = [i.plan.title for i in items]
    assert titles[0].startswith("Create table user_preferences")
    lossy = {i.plan.column for i in items if i.lossy and not i.lossy.lossless}
    assert lossy == {"price_cents", "sku"}  # 1149.5 and 'CAF-001' do not fit INTEGER
    # sessions.user_id -> INTEGER would break the two queries that bind str(user_id): its dry
    # run (with the re-analysis of the code) fails, so heal skips it.
    (blocked,) = [i for i in items if i.blocked]
    assert blocked.plan.column == "user_id"
    assert "code still agrees" in blocked.blocked and "auth.py" in blocked.blocked

    outcomes = heal(engine, items)
    applied = [o.message for o in outcomes if o.applied]
    assert all(o.applied for o in outcomes), [o.message for o in outcomes]
    db = shop / "shop.db"
    assert "user_preferences" in names(db, "table")
    assert "trg_users_default_preferences" in names(db, "trigger")
    assert "tracking_number" in columns(db, "orders")
    assert {"idx_orders_customer_email", "idx_orders_tracking_number"} <= names(db, "index")
    assert any("idx_orders_customer_email" in m for m in applied)
    assert columns(db, "sessions")["user_id"] == "TEXT"

    # The new index is written as the next migration; tables from 004/005 are not re-written.
    written = sorted(p.name for p in (shop / "migrations").glob("*.sql"))
    assert written[-1] == "006_add_index_orders_customer_email.sql"
    text = (shop / "migrations" / written[-1]).read_text()
    assert 'CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email");' in text

    after = project.check_paths([shop]).issues
    assert not [i for i in after if i.type is IssueType.MISSING_TABLE and i.origin]
    assert not [i for i in after if i.type is IssueType.MISSING_INDEX]


def test_type_change_with_its_code_fix(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    (issue,) = project.check_paths([project.config.root]).issues
    assert issue.type is IssueType.TYPE_MISMATCH
    (item,) = heal_items(engine, project.check_paths([project.config.root]))
    assert item.with_code and item.safe
    (outcome,) = heal(engine, [item])
    assert outcome.applied, outcome.message
    assert outcome.record is not None and outcome.record.kind == "both"
    db = project.config.root / "app.db"
    assert columns(db, "sessions")["user_id"] == "INTEGER"
    assert "idx_sessions_user_id" in names(db, "index")
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT user_id, typeof(user_id) FROM sessions ORDER BY id"
        ).fetchall() == [
            (1, "integer"),
            (22, "integer"),
        ]
    assert "(user_id,)" in (project.config.root / "app.py").read_text()
    assert types(project) == []
    engine.rollback(outcome.record.id)
    assert columns(db, "sessions")["user_id"] == "TEXT"
    assert (project.config.root / "app.py").read_text() == BOTH


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_type_change_of_120k_rows_applies_and_verifies(tmp_path: Path, journal_mode: str) -> None:
    project = big_project(tmp_path, 120_000, journal_mode)
    engine = FixEngine(project)
    (item,) = heal_items(engine, project.check_paths([project.config.root]))
    assert item.safe, item.blocked
    # The full dry run (`dbheal migrate plan`) rebuilds the table in SQLite's default page
    # cache, so its transaction spills to the file: the re-analysis must not need a second
    # connection to read the schema then.
    lossy, verify = engine.dry_run(item.plan, item.issues[0])
    assert verify.ok, verify.failures()
    assert lossy is not None and lossy.total_rows == 120_000 and lossy.lossless
    (outcome,) = heal(engine, [item])
    assert outcome.applied, outcome.message
    assert "locked" not in outcome.message
    assert {c.name for c in outcome.verify.checks} >= {"copy: rows equal", "code still agrees"}
    db = project.config.root / "app.db"
    assert columns(db, "sessions")["user_id"] == "INTEGER"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == journal_mode
        assert conn.execute(
            "SELECT count(*), sum(typeof(user_id) = 'integer') FROM sessions"
        ).fetchone() == (120_000, 120_000)
    assert "idx_sessions_user_id" in names(db, "index")
    assert "sessions_audit" in names(db, "trigger")


VIEW_MIGRATION = """\
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
CREATE VIEW adults AS SELECT id, name, age FROM users WHERE age >= 18;
"""
ORDERS_MIGRATION = """\
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER);
CREATE INDEX idx_orders_user_id ON orders (user_id);
"""
VIEW_CODE = """import sqlite3

db = sqlite3.connect("app.db")


def adults():
    return db.execute("SELECT id, name, age FROM adults").fetchall()


def orders(user_id: int):
    return db.execute("SELECT total FROM orders WHERE user_id = ?", (user_id,)).fetchall()
"""


def test_heal_cli_with_a_drifted_column_a_view_reads(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "migrations").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.dbheal]\ndatabase = "app.db"\nmigrations = "migrations"\n'
    )
    (root / "migrations" / "001_users.sql").write_text(VIEW_MIGRATION)
    (root / "migrations" / "002_orders.sql").write_text(ORDERS_MIGRATION)
    (root / "app.py").write_text(VIEW_CODE)
    conn = sqlite3.connect(root / "app.db")
    # The database drifted: age was created TEXT, and 002 was never applied.
    conn.executescript(
        VIEW_MIGRATION.replace("age INTEGER", "age TEXT")
        + "INSERT INTO users VALUES (1, 'ada', '36'), (2, 'bo', '12');"
    )
    conn.close()
    healed = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "heal", ".", "--yes"],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert "Traceback" not in healed.stderr, healed.stderr
    assert healed.returncode in (0, 1), healed.stdout + healed.stderr
    assert "[applied] applied: Create table orders" in healed.stdout
    db = root / "app.db"
    assert {"orders", "users"} <= names(db, "table")
    assert "idx_orders_user_id" in names(db, "index")
    # The table under the view was rebuilt, and the view with it.
    assert columns(db, "users")["age"] == "INTEGER"
    assert "adults" in names(db, "view")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, name, age, typeof(age) FROM adults").fetchall() == [
            (1, "ada", 36, "integer")
        ]
    again = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "check", "."],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_heal_killed_at_any_moment_leaves_the_old_or_the_new_database(
    tmp_path: Path, journal_mode: str
) -> None:
    project = big_project(tmp_path, 150_000, journal_mode)
    root = project.config.root
    db = root / "app.db"
    old_type, old_rows = state_of(db)
    assert old_type == "TEXT"
    pristine = tmp_path / "pristine.db"
    pristine.write_bytes(db.read_bytes())

    def heal(kill_after: float | None) -> float:
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.write_bytes(pristine.read_bytes())
        # Each trial from scratch: no history (loop prevention), the code as it was.
        shutil.rmtree(root / ".dbheal", ignore_errors=True)
        (root / "app.py").write_text(BOTH)
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "dbheal_lsp", "heal", ".", "--yes"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=kill_after or 120)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        return time.monotonic() - start

    whole = heal(None)
    declared, rows = state_of(db)
    new_rows = [(i, v, "integer", t) for i, v, _, t in old_rows]
    assert (declared, rows) == ("INTEGER", new_rows)
    # Killed at points spread over a whole run: before the rebuild, during it (with the backup
    # beside it), around the commit. Where each lands does not matter; what it leaves does.
    for fraction in (0.3, 0.45, 0.6, 0.7, 0.8, 0.9):
        heal(whole * fraction)
        declared, rows = state_of(db)
        assert (declared, rows) in (("TEXT", old_rows), ("INTEGER", new_rows))

"""The orchestrator end to end on real projects: heal, both-fixes, loops, stale plans, rollback."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project, load_project
from dbheal_lsp.codec import to_json
from dbheal_lsp.fixes.heal import heal, heal_items
from dbheal_lsp.fixes.orchestrator import FixEngine, FixError, FixSettings
from dbheal_lsp.fixes.rollback import RollbackError
from dbheal_lsp.model import IssueType, Severity


def _columns(db: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}


def _names(db: Path, kind: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
        }


def _types(project: Project) -> list[str]:
    return sorted(i.type.value for i in project.check_paths([project.config.root]).issues)


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
    assert "user_preferences" in _names(db, "table")
    assert "trg_users_default_preferences" in _names(db, "trigger")
    assert "tracking_number" in _columns(db, "orders")
    assert {"idx_orders_customer_email", "idx_orders_tracking_number"} <= _names(db, "index")
    assert any("idx_orders_customer_email" in m for m in applied)
    assert _columns(db, "sessions")["user_id"] == "TEXT"

    # The new index is written as the next migration; tables from 004/005 are not re-written.
    written = sorted(p.name for p in (shop / "migrations").glob("*.sql"))
    assert written[-1] == "006_add_index_orders_customer_email.sql"
    text = (shop / "migrations" / written[-1]).read_text()
    assert 'CREATE INDEX "idx_orders_customer_email" ON "orders" ("customer_email");' in text

    after = project.check_paths([shop]).issues
    assert not [i for i in after if i.type is IssueType.MISSING_TABLE and i.origin]
    assert not [i for i in after if i.type is IssueType.MISSING_INDEX]


def test_history_and_rollback_in_dependency_order(shop: Path) -> None:
    project = load_project(shop)
    engine = FixEngine(project)
    outcomes = heal(engine, heal_items(engine, project.check_paths([shop])))
    records = [o.record for o in outcomes if o.applied and o.record]
    first, last = records[0], records[-1]
    with pytest.raises(RollbackError, match="first"):
        engine.rollback(first.id)
    migration = shop / "migrations" / "006_add_index_orders_customer_email.sql"
    index_fix = next(r for r in records if "idx_orders_customer_email" in r.title)
    for record in reversed(records):
        if record.id == index_fix.id:
            break
        engine.rollback(record.id)
    engine.rollback(index_fix.id)
    assert not migration.exists()  # created by the fix: removed by its rollback
    assert "idx_orders_customer_email" not in _names(shop / "shop.db", "index")
    history = {r.id: r for r in engine.store.fixes()}
    assert history[index_fix.id].outcome == "rolled_back"
    assert last.id in history


def _small_project(tmp_path: Path, code: str) -> Project:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);"
            "CREATE INDEX idx_sessions_user_id ON sessions(user_id);"
            "INSERT INTO sessions VALUES ('a', '1', 't1'), ('b', '22', 't2');"
        )
    conn.close()
    (root / "app.py").write_text(code)
    return load_project(root)


BOTH = """import sqlite3

db = sqlite3.connect("app.db")


def tokens(user_id):
    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))
"""


def test_type_change_with_its_code_fix(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    (issue,) = project.check_paths([project.config.root]).issues
    assert issue.type is IssueType.TYPE_MISMATCH
    (item,) = heal_items(engine, project.check_paths([project.config.root]))
    assert item.with_code and item.safe
    (outcome,) = heal(engine, [item])
    assert outcome.applied, outcome.message
    assert outcome.record is not None and outcome.record.kind == "both"
    db = project.config.root / "app.db"
    assert _columns(db, "sessions")["user_id"] == "INTEGER"
    assert "idx_sessions_user_id" in _names(db, "index")
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT user_id, typeof(user_id) FROM sessions ORDER BY id"
        ).fetchall() == [
            (1, "integer"),
            (22, "integer"),
        ]
    assert "(user_id,)" in (project.config.root / "app.py").read_text()
    assert _types(project) == []
    engine.rollback(outcome.record.id)
    assert _columns(db, "sessions")["user_id"] == "TEXT"
    assert (project.config.root / "app.py").read_text() == BOTH


def test_loop_prevention(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project, FixSettings(max_fixes=1))
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    first = engine.apply_schema(plan, issue=issue)
    assert first.applied and first.record is not None
    engine.rollback(first.record.id)
    (again,) = engine.schema_plans(issue)
    second = engine.apply_schema(again, issue=issue)
    assert not second.applied and "loop prevention" in second.message


def test_stale_code_fix_is_refused(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (fix,) = engine.code_fixes(issue)
    app = project.config.root / "app.py"
    app.write_text(BOTH + "\n# edited meanwhile\n")
    outcome = engine.apply_code(fix)
    assert not outcome.applied and "plan again" in outcome.message
    assert app.read_text().endswith("# edited meanwhile\n")


def test_queue_survives_a_new_engine_and_drops_duplicates(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    issue = project.check_paths([project.config.root]).issues[0]
    engine = FixEngine(project)
    (plan,) = engine.schema_plans(issue)
    first = engine.enqueue(plan, Severity.MEDIUM)
    assert engine.enqueue(plan, Severity.MEDIUM).id == first.id
    again = FixEngine(load_project(project.config.root))
    entry, queued = again.queued_plan(first.id)
    assert queued == plan and entry.status == "queued"


def test_apply_queued_applies_the_plan_shown_once_and_sets_its_status(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    entry = engine.enqueue(plan, Severity.MEDIUM)
    with pytest.raises(FixError, match=f"not the plan of migration {entry.id}"):
        engine.apply_queued(entry.id, plan_id="another plan")
    assert engine.store.entry(entry.id).status == "queued"  # type: ignore[union-attr]
    outcome = engine.apply_queued(entry.id, plan_id=plan.id)
    assert outcome.applied, outcome.message
    assert engine.store.entry(entry.id).status == "applied"  # type: ignore[union-attr]
    with pytest.raises(FixError, match=f"^migration {entry.id} is applied, not queued$"):
        engine.apply_queued(entry.id)
    with pytest.raises(FixError, match="no queued migration 999"):
        engine.apply_queued(999)


def test_fix_file_applies_the_fixes_of_a_file_one_at_a_time(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    (outcome,) = engine.fix_file("app.py")
    assert outcome.applied and "(user_id,)" in outcome.diff
    assert "(user_id,)" in (project.config.root / "app.py").read_text()
    assert list(engine.fix_file("app.py", IssueType.TYPE_MISMATCH)) == []  # nothing left


def test_stale_schema_plan_is_refused(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("CREATE TABLE other (x)")
    conn.close()
    outcome = engine.apply_schema(plan, issue=issue)
    assert not outcome.applied and "plan again" in outcome.message


# --- a type change at a real size, in both journal modes ---------------------------------------


def _big_project(tmp_path: Path, rows: int, journal_mode: str) -> Project:
    """A project whose sessions.user_id (TEXT, `rows` rows, an index, a trigger) the code
    compares with an int: the type change heal makes is big enough to spill the page cache."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    conn = sqlite3.connect(root / "app.db", isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.executescript(
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);"
        "CREATE TRIGGER sessions_audit AFTER DELETE ON sessions "
        "BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;"
    )
    conn.execute(
        "INSERT INTO sessions (user_id, token) WITH RECURSIVE c(i) AS "
        f"(SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows}) "
        "SELECT CAST(i % 997 AS TEXT), 'token-' || i FROM c"
    )
    conn.execute("CREATE INDEX idx_sessions_user_id ON sessions(user_id)")
    conn.close()
    (root / "app.py").write_text(BOTH)
    return load_project(root)


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_type_change_of_120k_rows_applies_and_verifies(tmp_path: Path, journal_mode: str) -> None:
    project = _big_project(tmp_path, 120_000, journal_mode)
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
    assert _columns(db, "sessions")["user_id"] == "INTEGER"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == journal_mode
        assert conn.execute(
            "SELECT count(*), sum(typeof(user_id) = 'integer') FROM sessions"
        ).fetchone() == (120_000, 120_000)
    assert "idx_sessions_user_id" in _names(db, "index")
    assert "sessions_audit" in _names(db, "trigger")


def test_queue_keeps_one_entry_per_target_and_replans_on_its_own(tmp_path: Path) -> None:
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    first = engine.enqueue(plan, Severity.MEDIUM)
    # The same target under another plan id (as an older dbheal, or another issue, named it).
    twin = replace(plan, id="change_type:older-name")
    store_twin = engine.store.enqueue(
        twin.id, twin.kind, twin.title, Severity.MEDIUM, to_json(twin)
    )
    assert store_twin.id != first.id
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("CREATE TABLE other (x)")  # the schema changes: every plan is stale
    conn.close()
    entry, fresh = engine.queued_plan(first.id)
    assert entry.id == first.id and entry.status == "queued"
    assert fresh.schema_version != plan.schema_version  # planned again, same id
    assert engine.store.entry(store_twin.id).status == "dropped"  # type: ignore[union-attr]
    outcome = engine.apply_schema(fresh, issue=issue)
    assert outcome.applied, outcome.message
    # Fixed meanwhile: the entry leaves the queue.
    engine.refresh_queue()
    assert engine.store.queued() == []
    assert engine.store.entry(first.id).status == "done elsewhere"  # type: ignore[union-attr]


# --- heal on a drifted column that a migration's view reads ------------------------------------

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
    assert {"orders", "users"} <= _names(db, "table")
    assert "idx_orders_user_id" in _names(db, "index")
    # The table under the view was rebuilt, and the view with it.
    assert _columns(db, "users")["age"] == "INTEGER"
    assert "adults" in _names(db, "view")
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


def test_a_type_change_without_its_backup_is_rolled_back(tmp_path: Path) -> None:
    # The backup of a type change runs beside the rebuild: the transaction must still wait for
    # it and roll back when there is none.
    project = _small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    dot = project.config.root / ".dbheal"
    dot.mkdir(exist_ok=True)
    engine.store  # noqa: B018  (the state database exists before the backups folder breaks)
    (dot / "backups").write_text("not a folder")
    db = project.config.root / "app.db"
    outcome = engine.apply_schema(plan, issue=issue)
    assert not outcome.applied
    assert "no backup, so no fix" in outcome.message
    assert _columns(db, "sessions")["user_id"] == "TEXT"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT typeof(user_id) FROM sessions").fetchall() == [
            ("text",),
            ("text",),
        ]


def _state_of(db: Path) -> tuple[str, list[tuple[object, ...]]]:
    """Return sessions.user_id's declared type and every row (values and storage classes)."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        declared = conn.execute(
            "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT id, CAST(user_id AS INTEGER), typeof(user_id), token FROM sessions ORDER BY id"
        ).fetchall()
    conn.close()
    return str(declared), rows


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_heal_killed_at_any_moment_leaves_the_old_or_the_new_database(
    tmp_path: Path, journal_mode: str
) -> None:
    project = _big_project(tmp_path, 150_000, journal_mode)
    root = project.config.root
    db = root / "app.db"
    old_type, old_rows = _state_of(db)
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
    declared, rows = _state_of(db)
    new_rows = [(i, v, "integer", t) for i, v, _, t in old_rows]
    assert (declared, rows) == ("INTEGER", new_rows)
    # Killed at points spread over a whole run: before the rebuild, during it (with the backup
    # beside it), around the commit. Where each lands does not matter; what it leaves does.
    for fraction in (0.3, 0.45, 0.6, 0.7, 0.8, 0.9):
        heal(whole * fraction)
        declared, rows = _state_of(db)
        assert (declared, rows) in (("TEXT", old_rows), ("INTEGER", new_rows))

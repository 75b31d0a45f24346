"""The orchestrator end to end on real projects: heal, both-fixes, loops, stale plans, rollback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.engine import Project, load_project
from dbheal_lsp.fixes.history import RollbackError
from dbheal_lsp.fixes.orchestrator import FixEngine, FixSettings
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
    items = engine.heal_items(result)
    titles = [i.plan.title for i in items]
    assert titles[0].startswith("Create table user_preferences")
    lossy = {i.plan.column for i in items if i.lossy and not i.lossy.lossless}
    assert lossy == {"price_cents", "sku"}  # 1149.5 and 'CAF-001' do not fit INTEGER
    # sessions.user_id -> INTEGER would break the two queries that bind str(user_id): its dry
    # run (with the re-analysis of the code) fails, so heal skips it.
    (blocked,) = [i for i in items if i.blocked]
    assert blocked.plan.column == "user_id"
    assert "code still agrees" in blocked.blocked and "auth.py" in blocked.blocked

    outcomes = engine.heal(items)
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
    outcomes = engine.heal(engine.heal_items(project.check_paths([shop])))
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
    (item,) = engine.heal_items(project.check_paths([project.config.root]))
    assert item.with_code and item.safe
    (outcome,) = engine.heal([item])
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

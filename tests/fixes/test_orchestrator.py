"""The orchestrator end to end on real projects: loops, stale plans, the queue applied, rollback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.fixes.heal import heal, heal_items
from dbheal_lsp.fixes.orchestrator import FixEngine, FixError, FixSettings
from dbheal_lsp.fixes.rollback import RollbackError
from dbheal_lsp.model import IssueType, Severity
from tests.fixes.fix_projects import BOTH, names, small_project


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
    assert "idx_orders_customer_email" not in names(shop / "shop.db", "index")
    history = {r.id: r for r in engine.store.fixes()}
    assert history[index_fix.id].outcome == "rolled_back"
    assert last.id in history


def test_loop_prevention(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
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
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (fix,) = engine.code_fixes(issue)
    app = project.config.root / "app.py"
    app.write_text(BOTH + "\n# edited meanwhile\n")
    outcome = engine.apply_code(fix)
    assert not outcome.applied and "plan again" in outcome.message
    assert app.read_text().endswith("# edited meanwhile\n")


def test_apply_queued_applies_the_plan_shown_once_and_sets_its_status(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
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
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    (outcome,) = engine.fix_file("app.py")
    assert outcome.applied and "(user_id,)" in outcome.diff
    assert "(user_id,)" in (project.config.root / "app.py").read_text()
    assert list(engine.fix_file("app.py", IssueType.TYPE_MISMATCH)) == []  # nothing left


def test_stale_schema_plan_is_refused(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("CREATE TABLE other (x)")
    conn.close()
    outcome = engine.apply_schema(plan, issue=issue)
    assert not outcome.applied and "plan again" in outcome.message


def test_a_queued_migration_of_a_database_that_is_no_database_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    # What `dbheal migrate plan`, the editor and the admin's page of a migration show.
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    entry = engine.enqueue(plan, Severity.MEDIUM)
    (project.config.root / "app.db").write_text("hello, not a database\n")
    with pytest.raises(FixError) as raised:
        engine.queued_plan(entry.id)
    message = str(raised.value)
    assert message.startswith(f"cannot plan migration {entry.id} again: ")
    assert message.endswith("app.db is not a SQLite database") and "\n" not in message
    assert engine.store.entry(entry.id).status == "queued"  # type: ignore[union-attr]

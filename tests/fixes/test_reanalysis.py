"""Tests of the re-analysis a schema fix runs inside its transaction: the issue gone, the code
still agreeing with the database; real projects, real transactions, no mocks."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from dbheal_lsp.databases.sqlite.transaction import SqliteTransaction
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.fixes.reanalysis import Reanalysis, reanalysis
from dbheal_lsp.model import IssueType, MigrationPlan, PlanStep, VerifyReport
from tests.fixes.fix_projects import BOTH, small_project


def _inside(db: Path, plan: MigrationPlan, check: Reanalysis) -> VerifyReport:
    """Run `plan`'s SQL steps and then `check` in one transaction, rolled back after."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for step in plan.steps:
            if step.kind == "sql":
                conn.execute(step.sql)
        return check(SqliteTransaction(conn))
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_fix_that_makes_the_issue_go_passes(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    (issue,) = project.check_paths([project.config.root]).issues
    assert issue.type is IssueType.TYPE_MISMATCH
    (plan,) = FixEngine(project).schema_plans(issue)
    report = _inside(project.config.root / "app.db", plan, reanalysis(project, issue, plan))
    assert [(c.name, c.ok, c.detail) for c in report.checks] == [
        ("re-analysis", True, "the issue is gone"),
        ("code still agrees", True, "no statement of the code gets a new issue"),
    ]
    # Without the change, the issue is still there.
    unchanged = replace(plan, steps=())
    still = _inside(project.config.root / "app.db", unchanged, reanalysis(project, issue, plan))
    assert not still.ok
    assert still.checks[0].detail.startswith("still: ")


def test_a_fix_that_breaks_a_statement_naming_the_table_fails(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    (issue,) = project.check_paths([project.config.root]).issues
    (plan,) = FixEngine(project).schema_plans(issue)
    breaking = replace(
        plan,
        steps=(*plan.steps, PlanStep("ALTER TABLE sessions RENAME COLUMN token TO tok")),
    )
    report = _inside(project.config.root / "app.db", breaking, reanalysis(project, issue, plan))
    failed = {c.name: c.detail for c in report.failures()}
    assert list(failed) == ["code still agrees"]
    assert failed["code still agrees"].startswith("1 statement(s) would break, e.g. app.py:7: ")
    assert "MISSING_COLUMN" in failed["code still agrees"]


def test_a_schema_that_cannot_be_read_fails_the_check(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    (issue,) = project.check_paths([project.config.root]).issues
    (plan,) = FixEngine(project).schema_plans(issue)
    db = project.config.root / "app.db"
    db.write_bytes(b"this is not a SQLite database, but it is long enough" * 40)
    check = reanalysis(project, issue, plan)
    conn = sqlite3.connect(":memory:")
    try:
        report = check(SqliteTransaction(conn))
    finally:
        conn.close()
    [failed] = report.failures()
    assert failed.name == "re-analysis"
    assert failed.detail.startswith("cannot read the schema before the change: ")

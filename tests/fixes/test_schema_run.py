"""Tests of one schema plan run under the database's lock with its backup taken before it
commits (beside a rebuild, or before it); real databases, real threads, no mocks."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from dbheal_lsp.backups import DATABASE_SUBDIR, BackupError
from dbheal_lsp.databases.schema_fixes import FixTransaction
from dbheal_lsp.databases.sqlite.fingerprint import database_fingerprint, stored_fingerprint
from dbheal_lsp.databases.sqlite.rebuild import change_type_plan
from dbheal_lsp.databases.sqlite.transaction import SqliteTransaction
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.fixes.schema_run import BackgroundBackup, Check, rebuild_cache, run_backed_up
from dbheal_lsp.model import MigrationPlan, PlanStep, VerifyCheck, VerifyReport
from tests.fixes.fix_projects import BOTH, columns, small_project


def test_a_type_change_without_its_backup_is_rolled_back(tmp_path: Path) -> None:
    # The backup of a type change runs beside the rebuild: the transaction must still wait for
    # it and roll back when there is none.
    project = small_project(tmp_path, BOTH)
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
    assert columns(db, "sessions")["user_id"] == "TEXT"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT typeof(user_id) FROM sessions").fetchall() == [
            ("text",),
            ("text",),
        ]


def _type_change(db: Path) -> MigrationPlan:
    conn = sqlite3.connect(db)
    try:
        return change_type_plan(conn, "sessions", "user_id", "INTEGER")
    finally:
        conn.close()


def test_a_rebuild_gets_a_cache_that_holds_it_and_small_changes_none(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    db = project.config.root / "app.db"
    plan = _type_change(db)
    cache_kib, beside = rebuild_cache(db, plan)
    # Half again the file and 32 MiB of margin: the backup can run beside the rebuild.
    assert cache_kib == (db.stat().st_size * 3 // 2 + 32 * 1024 * 1024) // 1024 and beside
    index = MigrationPlan("i", "create_index", "t", "", "sessions", (PlanStep("SELECT 1"),), "")
    assert rebuild_cache(db, index) == (0, False)
    assert rebuild_cache(tmp_path / "gone.db", plan) == (0, False)


def test_a_backup_beside_the_fix_gates_its_last_check() -> None:
    started = threading.Event()
    release = threading.Event()

    def take() -> None:
        started.set()
        release.wait(10)

    def check(tx: FixTransaction) -> VerifyReport:
        return VerifyReport((VerifyCheck("code still agrees", True),))

    conn = sqlite3.connect(":memory:")
    with BackgroundBackup(take, background=True) as backup:
        assert started.wait(10)
        gate = backup.then(check)
        release.set()
        report = gate(SqliteTransaction(conn))
    conn.close()
    assert [(c.name, c.ok, c.detail) for c in report.checks] == [
        ("backup", True, "taken beside the rebuild, before its commit"),
        ("code still agrees", True, ""),
    ]


def test_a_failed_backup_fails_the_check_and_never_runs_the_next() -> None:
    def take() -> None:
        raise BackupError("disk full")

    ran: list[bool] = []

    def check(tx: FixTransaction) -> VerifyReport:
        ran.append(True)
        return VerifyReport()

    with BackgroundBackup(take, background=True) as backup:
        report = backup.then(check)(SqliteTransaction(sqlite3.connect(":memory:")))
    assert [(c.name, c.ok, c.detail) for c in report.checks] == [
        ("backup", False, "no backup, so no fix: disk full")
    ]
    assert ran == []
    # Taken before the fix, its error is raised as it always was: the fix never starts.
    with pytest.raises(BackupError, match="disk full"), BackgroundBackup(take, background=False):
        ran.append(True)
    assert ran == []


def test_run_backed_up_applies_backs_up_and_remembers_the_result(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    root = project.config.root
    db = root / "app.db"
    plan = _type_change(db)
    backup_dir = root / ".dbheal" / "backups" / "f1"
    calls: list[str] = []

    def reanalysis() -> Check:
        calls.append("reanalysis")
        return lambda conn: VerifyReport((VerifyCheck("re-analysis", True),))

    outcome = run_backed_up(
        db,
        plan,
        backup_dir,
        reanalysis,
        root=root,
        on_lossy="refuse",
        full_integrity=False,
        lock_timeout=5.0,
    )
    assert outcome.applied, outcome.message
    assert calls == ["reanalysis"]
    names = [c.name for c in outcome.verify.checks]
    assert names[-2:] == ["backup", "re-analysis"]
    assert columns(db, "sessions")["user_id"] == "INTEGER"
    copy = backup_dir / DATABASE_SUBDIR / "app.db"
    conn = sqlite3.connect(copy)
    assert conn.execute(
        "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
    ).fetchone() == ("TEXT",)
    conn.close()
    assert stored_fingerprint(backup_dir) == database_fingerprint(db)

"""The periodic health check of the live database and runtime events as issues.

Real SQLite files under `tmp_path`, real locks taken by a second connection, and the bundled demo
(`copy_shop`) for the drift from the migrations.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from dbheal_lsp.analysis.health import HealthReport, health_check, runtime_event_issues
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import Config, load_config
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import IssueType, Severity, Span
from tests.conftest import copy_shop

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    total INTEGER NOT NULL DEFAULT 0
);
"""


def make_project(root: Path, *, rows: str = "") -> Project:
    """A project with app.db built from migrations/001_init.sql (so no drift), plus `rows`."""
    (root / "migrations").mkdir()
    (root / "migrations" / "001_init.sql").write_text(SCHEMA, encoding="utf-8")
    conn = sqlite3.connect(root / "app.db")
    conn.executescript(SCHEMA + rows)
    conn.commit()
    conn.close()
    return Project(load_config(root, {"database": "app.db", "migrations": "migrations"}))


def run_with_deadline(project: Project, busy_timeout: float | None = None) -> HealthReport:
    """health_check in a thread, so that a hang fails the test instead of stalling the run."""
    result: list[HealthReport] = []

    def run() -> None:
        if busy_timeout is None:
            result.append(health_check(project))
        else:
            result.append(health_check(project, busy_timeout=busy_timeout))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert result, "health_check did not return"
    return result[0]


# --- health_check -------------------------------------------------------------------------------


def test_a_healthy_database(tmp_path: Path) -> None:
    project = make_project(tmp_path, rows="INSERT INTO users VALUES (1, 'a@example.com');")
    report = health_check(project)
    assert report.ok
    assert report.integrity == ("ok",)
    assert report.foreign_key_violations == ()
    assert report.issues == ()
    assert report.message == "app.db: quick_check ok, no foreign-key violations"
    assert report.checked_at.endswith("+00:00")

    full = health_check(project, full=True)
    assert full.ok and full.message.startswith("app.db: integrity_check ok")


def test_a_foreign_key_violation(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        rows="INSERT INTO users VALUES (1, 'a@example.com');"
        "INSERT INTO orders VALUES (10, 1, 5);"
        "INSERT INTO orders VALUES (11, 99, 7);",  # user 99 does not exist
    )
    report = health_check(project)
    assert not report.ok
    assert report.integrity == ("ok",)
    assert len(report.foreign_key_violations) == 1
    violation = report.foreign_key_violations[0]
    assert (violation.table, violation.rowid, violation.parent) == ("orders", 11, "users")
    assert "1 foreign-key violation(s): orders rowid 11 refers to a missing users row" in (
        report.message
    )
    assert report.issues == ()  # not a source-file finding: the message carries it


def test_a_corrupt_database(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute("CREATE INDEX users_email ON users (email)")
    conn.executemany(
        "INSERT INTO users (email) VALUES (?)",
        [(f"user{i:05d}@example.com" * 3,) for i in range(3000)],
    )
    conn.commit()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root_page = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'users_email'"
    ).fetchone()[0]
    conn.close()
    data = bytearray((tmp_path / "app.db").read_bytes())
    start = (root_page - 1) * page_size
    data[start + 8 : start + page_size] = b"A" * (page_size - 8)  # the index's root page
    (tmp_path / "app.db").write_bytes(bytes(data))

    report = health_check(project)
    assert not report.ok
    assert report.integrity and report.integrity != ("ok",)
    assert "problem" in report.message or "corrupt" in report.message


def test_a_locked_database_is_reported_not_raised(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        report = run_with_deadline(project, busy_timeout=0.5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not report.ok
    assert report.integrity == ()
    assert "locked by another connection" in report.message
    assert "app.db" in report.message

    # With the default busy timeout too: it waits a little, then gives up the same way.
    holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        report = run_with_deadline(project)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not report.ok and "locked" in report.message
    assert health_check(project).ok  # and the next check, once the lock is gone, passes


def test_a_missing_database_or_none_at_all(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (tmp_path / "app.db").unlink()
    report = health_check(project)
    assert not report.ok
    assert "not found" in report.message and "app.db" in report.message

    bare = Project(Config(root=tmp_path.resolve()))
    report = health_check(bare)
    assert not report.ok and "no database is configured" in report.message


def test_the_check_never_writes(tmp_path: Path) -> None:
    project = make_project(tmp_path, rows="INSERT INTO orders VALUES (1, 42, 0);")
    before = (tmp_path / "app.db").read_bytes()
    health_check(project, full=True)
    assert (tmp_path / "app.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "migrations"]


def test_drift_issues_on_the_demo_migrations(tmp_path: Path) -> None:
    shop = copy_shop(tmp_path)
    project = Project(load_config(shop))
    report = health_check(project)
    assert report.ok  # drift is not a health problem of the file itself
    paths = {issue.path for issue in report.issues}
    assert "migrations/004_user_preferences.sql" in paths
    assert "migrations/005_order_tracking.sql" in paths
    assert all(issue.type is IssueType.SCHEMA_DRIFT for issue in report.issues)
    assert f"{len(report.issues)} difference(s) from the migrations" in report.message
    table = [i for i in report.issues if i.table == "user_preferences"]
    assert table and table[0].span.line == 4

    # Exactly what a check of the migrations folder reports: the editor shows one finding once.
    checked = project.check_paths([shop / "migrations"], use_cache=False)
    from_check = {(i.path, i.span, i.fingerprint, i.message) for i in checked.issues}
    assert {(i.path, i.span, i.fingerprint, i.message) for i in report.issues} == from_check


# --- runtime_event_issues -----------------------------------------------------------------------

APP = """\
import sqlite3


def load_preferences(conn, user_id):
    return conn.execute(
        "SELECT theme FROM user_preferences WHERE user_id = ?", (user_id,)
    ).fetchone()


def nickname(conn, user_id):
\treturn conn.execute("SELECT nick FROM users WHERE id = ?", (user_id,)).fetchone()
"""


@pytest.fixture
def app_project(tmp_path: Path) -> Project:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text(APP, encoding="utf-8")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "driver.py").write_text("x = 1\n" * 20, encoding="utf-8")
    return Project(Config(root=tmp_path.resolve()))


def test_runtime_events_become_issues(app_project: Project) -> None:
    root = app_project.config.root
    with StateStore(root) as store:
        healed = store.record_event(
            "no such table: user_preferences",
            "SELECT theme FROM user_preferences WHERE user_id = ?",
            path="app/db.py",
            line=5,
            action="create_table",
            outcome="healed: created from migrations/004_user_preferences.sql",
            table="user_preferences",
            time="2026-11-24T10:03:27Z",
        )
        column = store.record_event(
            "no such column: nick",
            "SELECT nick FROM users WHERE id = ?",
            path=str(root / "app" / "db.py"),  # absolute paths inside the project count too
            line=11,
            action="add_column",
            outcome="failed",
            time="2026-11-24T10:05:00Z",
        )
        other = store.record_event(
            'near "FORM": syntax error',
            "SELECT * FORM users",
            path="app/db.py",
            line=4,
            time="2026-11-24T10:06:00Z",
        )
        issues = runtime_event_issues(app_project, store)

    by_line = {issue.span.line: issue for issue in issues}
    assert sorted(by_line) == [4, 5, 11]

    table = by_line[5]
    assert table.type is IssueType.MISSING_TABLE
    assert table.severity is Severity.LOW
    assert table.path == "app/db.py"
    assert table.message == (
        "at run time (2026-11-24 10:03): no such table: user_preferences — "
        "healed: created from migrations/004_user_preferences.sql"
    )
    line_text = "return conn.execute("
    assert table.span == Span(5, 5, 5, 5 + len(line_text))
    assert table.fingerprint == f"runtime:{healed.id}"
    assert table.table == "user_preferences"
    assert table.sql == "SELECT theme FROM user_preferences WHERE user_id = ?"

    col = by_line[11]
    assert col.type is IssueType.MISSING_COLUMN
    assert col.severity is Severity.CRITICAL
    assert col.column_name == "nick"
    assert col.message == (
        "at run time (2026-11-24 10:05): no such column: nick — not healed (add_column: failed)"
    )
    # a tab indents this line: the span starts after it and covers the rest of the line
    text = APP.splitlines()[10]
    assert col.span == Span(11, 2, 11, len(text) + 1)
    assert col.fingerprint == f"runtime:{column.id}"

    syntax = by_line[4]
    assert syntax.type is IssueType.SQL_SYNTAX
    assert syntax.severity is Severity.CRITICAL
    assert syntax.message.endswith("— not healed")
    assert syntax.fingerprint == f"runtime:{other.id}"


def test_only_the_newest_event_of_a_line_and_error_counts(app_project: Project) -> None:
    with StateStore(app_project.config.root) as store:
        store.record_event(
            "no such table: user_preferences",
            "SELECT 1",
            path="app/db.py",
            line=5,
            time="2026-11-24T09:00:00Z",
        )
        newest = store.record_event(
            "no such table: user_preferences",
            "SELECT 1",
            path="app/db.py",
            line=5,
            outcome="applied",
            action="create_table",
            time="2026-11-24T11:00:00Z",
        )
        issues = runtime_event_issues(app_project, store)
    assert len(issues) == 1
    assert issues[0].fingerprint == f"runtime:{newest.id}"
    assert issues[0].severity is Severity.LOW
    assert issues[0].message.endswith("— healed: create_table")


def test_events_without_a_place_in_the_project_are_left_out(
    app_project: Project, tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.py"
    outside.write_text("x = 1\n", encoding="utf-8")
    with StateStore(app_project.config.root) as store:
        store.record_event("no such table: a", "SELECT 1")  # no path
        store.record_event("no such table: b", "SELECT 1", path="app/db.py")  # no line
        store.record_event("no such table: c", "SELECT 1", path=str(outside), line=1)
        store.record_event("no such table: d", "SELECT 1", path=".venv/lib/driver.py", line=3)
        store.record_event("no such table: e", "SELECT 1", path="app/db.py", line=999)
        store.record_event("no such table: f", "SELECT 1", path="app/gone.py", line=1)
        assert runtime_event_issues(app_project, store) == ()
        kept = store.record_event("no such table: g", "SELECT 1", path="app/db.py", line=1)
        issues = runtime_event_issues(app_project, store)
        assert [i.fingerprint for i in issues] == [f"runtime:{kept.id}"]
        assert runtime_event_issues(app_project, store, limit=0) == ()

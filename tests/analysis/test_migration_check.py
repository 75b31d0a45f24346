"""The migrations' own issues (`analysis/migration_check.py`): a migration that fails, and drift
reported on the migration line, paths relative to the project and severities as configured."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.migration_check import migration_issues
from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.model import IssueType, Severity


def _project(root: Path, migration: str, severity: str = "") -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_users.sql").write_text(migration)
    with sqlite3.connect(root / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, age TEXT)")
    conn.close()
    (root / "pyproject.toml").write_text(
        f'[tool.dbheal]\ndatabase = "app.db"\nmigrations = "migrations"\n{severity}'
    )
    return root


def test_a_failing_migration_is_an_issue_on_its_file_and_line(tmp_path: Path) -> None:
    root = _project(
        tmp_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, age TEXT);\nCREATE TABLE (;\n"
    )
    project = load_project(root)
    found = migration_issues(project.config, project.schema_state())
    failing = [i for i in found if i.type is IssueType.SQL_SYNTAX]
    assert [(i.path, i.span.line) for i in failing] == [("migrations/001_users.sql", 2)]
    assert failing[0].message.startswith("this migration fails: ")


def test_drift_is_reported_on_the_line_that_defines_the_column_at_its_configured_severity(
    tmp_path: Path,
) -> None:
    root = _project(
        tmp_path,
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    age INTEGER\n);\n",
        'severity = { SCHEMA_DRIFT = "low" }\n',
    )
    project = load_project(root)
    drift = [
        i
        for i in migration_issues(project.config, project.schema_state())
        if i.type is IssueType.SCHEMA_DRIFT
    ]
    assert [(i.path, i.span.line, i.severity) for i in drift] == [
        ("migrations/001_users.sql", 3, Severity.LOW)
    ]
    assert "age" in drift[0].message


def test_the_same_project_in_two_folders_gives_the_same_fingerprints(tmp_path: Path) -> None:
    # A baseline or an ignore list kept by fingerprint must hold in every clone of the project.
    migration = (
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    age INTEGER\n);\nCREATE (;\n"
    )
    found = []
    for folder in (tmp_path / "a", tmp_path / "elsewhere" / "b"):
        project = load_project(_project(folder, migration))
        issues = migration_issues(project.config, project.schema_state())
        found.append(sorted((i.type.value, i.path, i.span.line, i.fingerprint) for i in issues))
    assert {t for t, *_ in found[0]} == {"SCHEMA_DRIFT", "SQL_SYNTAX"}
    assert found[0] == found[1]

"""The editor's periodic health check (analysis/health.py) on a PostgreSQL server: its foreign
keys and indexes, and its drift from the migrations, against a real server; never the password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbheal_lsp.analysis.health import health_check
from dbheal_lsp.analysis.project import load_project
from tests.databases.postgres.test_drift import MIGRATION_1, MIGRATION_2

PASSWORD = "s3cret-health"


def _project(root: Path, url: str) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_users.sql").write_text(MIGRATION_1)
    (root / "migrations" / "002_email.sql").write_text(MIGRATION_2)
    with_password = url.replace("@/", f":{PASSWORD}@/", 1)
    (root / "pyproject.toml").write_text(
        f'[tool.dbheal]\ndatabase = "{with_password}"\nmigrations = "migrations"\n'
    )
    return root


def test_a_sound_server_is_reported_ok_with_its_drift(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1)  # 002 not applied: drift, but sound
    report = health_check(load_project(_project(tmp_path, pg_url)))
    assert report.ok, report.message
    assert "integrity (foreign keys, indexes) ok, no foreign-key violations" in report.message
    assert sorted((Path(i.path).name, i.span.line) for i in report.issues)[0] == (
        "002_email.sql",
        1,
    )
    assert PASSWORD not in report.message


def test_an_orphan_row_and_an_invalid_index_make_it_fail(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1 + MIGRATION_2)
    pg_conn.execute("CREATE TABLE teams (id int PRIMARY KEY)")
    pg_conn.execute("ALTER TABLE users ADD COLUMN team int")
    pg_conn.execute("INSERT INTO users (name, team) VALUES ('a', 9)")
    pg_conn.execute("ALTER TABLE users ADD FOREIGN KEY (team) REFERENCES teams (id) NOT VALID")
    report = health_check(load_project(_project(tmp_path, pg_url)))
    assert not report.ok
    assert "1 foreign-key violation(s)" in report.message, report.message
    assert len(report.foreign_key_violations) == 1
    assert report.foreign_key_violations[0].parent == "teams"
    assert PASSWORD not in report.message

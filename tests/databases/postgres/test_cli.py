"""`--database` naming a PostgreSQL server on the command line: check, fix, heal and migrate
against a real server, the URL's password never shown (the cluster trusts any password)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_dbheal

PASSWORD = "s3cret-pw"
APP = (
    "def show(cur, uid):\n"
    '    cur.execute("SELECT id, emial FROM users WHERE id = %s", (uid,))\n'
    '    cur.execute("SELECT id FROM userz")\n'
    '    cur.execute("SELECT id::text FROM users WHERE name ILIKE %s RETURNING id", (uid,))\n'
    '    cur.execute("SELECT id, name FROM users WHERE name ILIKE %s", (uid,))\n'
)


def with_password(url: str) -> str:
    """Return `url` with a password (any is accepted: the test cluster runs -A trust)."""
    user, _, rest = url.partition("://")[2].partition("@")
    return f"postgresql://{user}:{PASSWORD}@{rest}"


@pytest.fixture
def project(pg_conn: Any, tmp_path: Path) -> Path:
    pg_conn.execute("CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)")
    (tmp_path / "pyproject.toml").write_text("[tool.dbheal]\n")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def test_check_takes_a_server_url(project: Path, pg_url: str) -> None:
    url = with_password(pg_url)
    run = run_dbheal(project, "check", "--database", url)
    found = [line.split()[2] for line in run.stdout.splitlines() if line.startswith("app.py:")]
    assert found == ["MISSING_COLUMN", "MISSING_TABLE", "SQL_SYNTAX"], run.stdout + run.stderr
    assert "PostgreSQL rejects this statement" in run.stdout
    assert "checked against postgresql://postgres@/" in run.stdout
    assert PASSWORD not in run.stdout + run.stderr
    for output_format in ("json", "sarif"):
        run = run_dbheal(project, "check", "--database", url, "--format", output_format)
        assert json.loads(run.stdout)
        assert PASSWORD not in run.stdout + run.stderr


def test_the_url_wins_over_the_settings_file(project: Path, pg_url: str) -> None:
    (project / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    run = run_dbheal(project, "check", "--db", with_password(pg_url), "--format", "json")
    assert "MISSING_TABLE" in {i["type"] for i in json.loads(run.stdout)}


def test_commands_that_change_the_database_say_one_line(project: Path, pg_url: str) -> None:
    url = with_password(pg_url)
    for args in (
        ("fix", "--database", url),
        ("heal", "--database", url),
        ("migrate", "list", "--database", url),
    ):
        run = run_dbheal(project, *args)
        assert "Traceback" not in run.stderr, args
        assert PASSWORD not in run.stdout + run.stderr, args


def test_an_unreachable_url_is_one_line_without_the_password(project: Path) -> None:
    url = f"postgresql://app:{PASSWORD}@/app?host=/nonexistent-dbheal&port=1"
    run = run_dbheal(project, "check", "--database", url)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cannot connect to postgresql://app@/app" in run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr

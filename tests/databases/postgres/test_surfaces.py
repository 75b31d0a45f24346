"""The git hook, SARIF and the admin page on a project whose database is a PostgreSQL server:
each works as on SQLite, and the URL's password appears in none of them (the test cluster
trusts any password, so the URL carries one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import start
from tests.databases.postgres.test_cli import PASSWORD, with_password
from tests.hook.repo import commit, dbheal, git_ok, write

CLEAN = (
    'def show(cur, uid):\n    cur.execute("SELECT id, owner FROM accounts WHERE id = %s", (uid,))\n'
)
BROKEN = (
    'def show(cur, uid):\n    cur.execute("SELECT id, ownr FROM accounts WHERE id = %s", (uid,))\n'
)


@pytest.fixture
def project(pg_conn: Any, pg_url: str, tmp_path: Path) -> Path:
    pg_conn.execute("CREATE TABLE accounts (id serial PRIMARY KEY, owner text NOT NULL)")
    root = tmp_path / "app"
    root.mkdir()
    write(root, "pyproject.toml", f'[tool.dbheal]\ndatabase = "{with_password(pg_url)}"\n')
    write(root, "app.py", CLEAN)
    return root


def test_the_hook_blocks_a_commit_the_server_rejects(project: Path) -> None:
    git_ok(project, "init", "-q")
    git_ok(project, "config", "user.name", "dbheal tests")
    git_ok(project, "config", "user.email", "tests@dbheal.invalid")
    git_ok(project, "add", "-A")
    git_ok(project, "commit", "-q", "-m", "baseline")
    installed = dbheal(project, "hook", "install")
    assert installed.returncode == 0, installed.stderr
    write(project, "app.py", BROKEN)
    git_ok(project, "add", "app.py")
    status, output = commit(project)
    assert status != 0, output
    assert "MISSING_COLUMN" in output and "ownr" in output
    assert PASSWORD not in output
    write(project, "app.py", CLEAN + "# reviewed\n")
    git_ok(project, "add", "app.py")
    status, output = commit(project)
    assert status == 0, output
    assert PASSWORD not in output


def test_sarif_names_the_server_without_its_password(project: Path) -> None:
    write(project, "app.py", BROKEN)
    run = dbheal(project, "check", "--format", "sarif")
    sarif = json.loads(run.stdout)
    (sarif_run,) = sarif["runs"]
    assert [r["ruleId"] for r in sarif_run["results"]] == ["MISSING_COLUMN"]
    assert sarif_run["properties"]["database"].startswith("postgresql://postgres@/")
    assert PASSWORD not in run.stdout + run.stderr


def test_the_admin_page_lists_the_servers_issues(project: Path) -> None:
    write(project, "app.py", BROKEN)
    for running in start(project):
        client = running.client()
        client.login()
        issues = client.get("/issues")
        assert issues.status == 200
        assert "MISSING_COLUMN" in issues.text and "ownr" in issues.text
        for page in ("/", "/issues", "/settings", "/history"):
            response = client.get(page)
            assert PASSWORD not in response.text, page
        assert "postgresql://postgres@/" in client.get("/settings").text
        # The form shows the URL without its password; saved unchanged, the file keeps it.
        fields = running.app.settings_form()
        assert fields["database"].startswith("postgresql://postgres@/")
        notice = running.app.save_settings({**fields, "fail-on": "high"})
        assert notice.ok, notice.text
        saved = (project / "pyproject.toml").read_text()
        assert PASSWORD in saved and 'fail-on = "high"' in saved


def test_the_hook_judges_a_servers_project_by_its_staged_migrations(project: Path) -> None:
    write(
        project,
        "pyproject.toml",
        project.joinpath("pyproject.toml").read_text() + ('migrations = "migrations"\n'),
    )
    write(
        project,
        "migrations/001_accounts.sql",
        "CREATE TABLE accounts (\n  id serial PRIMARY KEY,\n  owner text NOT NULL\n);\n",
    )
    git_ok(project, "init", "-q")
    git_ok(project, "config", "user.name", "dbheal tests")
    git_ok(project, "config", "user.email", "tests@dbheal.invalid")
    git_ok(project, "add", "-A")
    git_ok(project, "commit", "-q", "-m", "baseline")
    assert dbheal(project, "hook", "install").returncode == 0
    # The column comes with its migration in the same commit: the server lacks it, the commit
    # does not.
    write(project, "migrations/002_email.sql", "ALTER TABLE accounts ADD COLUMN email text;\n")
    write(project, "app.py", CLEAN.replace("id, owner", "id, owner, email"))
    git_ok(project, "add", "-A")
    status, output = commit(project)
    assert status == 0, output
    write(project, "app.py", CLEAN.replace("id, owner", "id, owner, phone"))
    git_ok(project, "add", "-A")
    status, output = commit(project)
    assert status != 0 and "MISSING_COLUMN" in output and "phone" in output, output
    assert PASSWORD not in output

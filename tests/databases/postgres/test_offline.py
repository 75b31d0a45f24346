"""PostgreSQL code checked without a server: chosen by the dialect and the migrations, or
while the project's server cannot be reached; the check says what judged it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dbheal_lsp.config import load_config
from dbheal_lsp.databases import open_database
from dbheal_lsp.databases.postgres.database import PostgresDatabase
from dbheal_lsp.databases.postgres.offline import OfflinePostgresDatabase

_UNREACHABLE = "postgresql://app:s3cret@/app?host=/nonexistent-dbheal-socket&port=1"
_APP = (
    "def f(cur, uid):\n"
    '    cur.execute("SELECT id, emial FROM users WHERE id = %s", (uid,))\n'
    '    cur.execute("SELECT id FRM users")\n'
    '    cur.execute("SELECT id FROM userz")\n'
    '    cur.execute("SELECT id::text FROM users WHERE email ILIKE %s RETURNING 1", (uid,))\n'
)


def _project(tmp_path: Path, setting: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.dbheal]\n{setting}\nmigrations = "migrations"\n'
    )
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001.sql").write_text(
        "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n"
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"
    )
    (tmp_path / "app.py").write_text(_APP)
    return tmp_path


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "check", "."],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_postgres_code_with_migrations_and_no_server_is_judged_by_pglast(tmp_path: Path) -> None:
    root = _project(tmp_path, 'dialect = "postgres"')
    assert isinstance(open_database(load_config(root)), OfflinePostgresDatabase)
    run = _check(root)
    found = [line.split()[2] for line in run.stdout.splitlines() if line.startswith("app.py:")]
    assert found == ["MISSING_COLUMN", "SQL_SYNTAX", "MISSING_TABLE", "SQL_SYNTAX"], run.stdout
    assert "app.py:2:29: critical MISSING_COLUMN no such column: users.emial" in run.stdout
    assert 'PostgreSQL rejects this statement: syntax error at or near "users"' in run.stdout


def test_an_unreachable_server_falls_back_to_pglast_and_hides_the_password(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, f'database = "{_UNREACHABLE}"')
    database = open_database(load_config(root))
    assert isinstance(database, PostgresDatabase)
    result = database.migrations(root / "migrations")
    assert database.offline and not database.has_live
    assert result.schema.tables["users"].column_names == ("id", "email")
    run = _check(root)
    assert "app.py:3:" in run.stdout and "MISSING_TABLE" in run.stdout
    assert "not reachable: pglast and the migrations judged" in run.stdout
    assert "s3cret" not in run.stdout + run.stderr


def test_an_unreachable_server_without_migrations_is_still_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{_UNREACHABLE}"\n')
    (tmp_path / "app.py").write_text(_APP)
    run = _check(tmp_path)
    assert run.returncode != 0
    assert "cannot connect to postgresql://app@/app" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr and "s3cret" not in run.stderr + run.stdout

"""Drift between a PostgreSQL server's schema and its migrations' (analysis/drift.py), found
against a real server: a migration not applied, a column whose type was changed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_dbheal

MIGRATION_1 = "CREATE TABLE users (\n  id serial PRIMARY KEY,\n  name text NOT NULL\n);\n"
MIGRATION_2 = (
    "ALTER TABLE users ADD COLUMN email text;\n"
    "CREATE INDEX users_email ON users (email);\n"
    "CREATE FUNCTION touch() RETURNS trigger AS $$\n"
    "BEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n"
    "CREATE TRIGGER users_touch BEFORE UPDATE ON users\n"
    "  FOR EACH ROW EXECUTE FUNCTION touch();\n"
)


def test_drift_between_the_server_and_its_migrations(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    # The server: 001 applied, then `name` changed by hand; 002 never applied.
    pg_conn.execute("CREATE TABLE users (id serial PRIMARY KEY, name varchar(40) NOT NULL)")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text(MIGRATION_1)
    (tmp_path / "migrations" / "002_email.sql").write_text(MIGRATION_2)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.dbheal]\ndatabase = "{pg_url}"\nmigrations = "migrations"\n'
    )
    (tmp_path / "app.py").write_text(
        'def names(cur):\n    cur.execute("SELECT id, name FROM users")\n'
    )
    run = run_dbheal(tmp_path, "check", "--format", "json")
    drift = sorted(
        (Path(i["path"]).name, i["line"], i["message"])
        for i in json.loads(run.stdout)
        if i["type"] == "SCHEMA_DRIFT"
    )
    assert [(path, line) for path, line, _ in drift] == [
        ("001_users.sql", 3),
        ("002_email.sql", 1),
        ("002_email.sql", 2),
        ("002_email.sql", 8),
    ], run.stdout + run.stderr
    messages = " | ".join(message for _, _, message in drift)
    assert "users.name is text here but character varying(40) in the database" in messages
    assert "no column users.email" in messages
    assert "no index users_email" in messages
    assert "no trigger users_touch" in messages


def test_no_drift_once_the_migrations_are_applied(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    pg_conn.execute(MIGRATION_1 + MIGRATION_2)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_users.sql").write_text(MIGRATION_1)
    (tmp_path / "migrations" / "002_email.sql").write_text(MIGRATION_2)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.dbheal]\ndatabase = "{pg_url}"\nmigrations = "migrations"\n'
    )
    (tmp_path / "app.py").write_text(
        'def names(cur):\n    cur.execute("SELECT id, name, email FROM users")\n'
    )
    run = run_dbheal(tmp_path, "check", "--format", "json")
    assert json.loads(run.stdout) == [], run.stdout + run.stderr

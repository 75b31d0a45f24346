"""Migrations replayed on a real server into a fresh schema, rolled back: nothing is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbheal_lsp.databases.postgres.replay import replay_migrations, replay_statements
from dbheal_lsp.model import Origin


def test_migrations_build_the_expected_schema_and_leave_nothing(
    pg_conn: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_users.sql").write_text(
        "CREATE TABLE users (\n    id serial PRIMARY KEY,\n    name text NOT NULL\n);\n"
    )
    (folder / "002_email.sql").write_text(
        "ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);\n"
        "SELECT broken FROM nowhere;\n"
    )
    result = replay_migrations(pg_conn, folder, tmp_path)
    users = result.schema.tables["users"]
    assert users.column_names == ("id", "name", "email")
    assert users.origin == Origin(str(folder / "001_users.sql"), 1)
    name = users.column("name")
    assert name is not None and name.origin == Origin(str(folder / "001_users.sql"), 3)
    email = users.column("email")
    assert email is not None and email.origin == Origin(str(folder / "002_email.sql"), 1)
    assert "users_email" in result.schema.indexes
    assert [(Path(e.path).name, e.line) for e in result.errors] == [("002_email.sql", 3)]
    assert "nowhere" in result.errors[0].message
    assert [s.kind for s in result.statements] == ["create_table", "add_column", "create_index"]
    assert result.column_statement("users", "email") is not None
    # Rolled back: the server has no trace of the replay.
    leftover = pg_conn.execute(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbheal_replay_%'"
    ).fetchone()
    assert leftover == (0,)
    assert pg_conn.execute("SELECT to_regclass('users')").fetchone() == (None,)


def test_code_ddl_builds_a_schema(pg_conn: Any) -> None:
    result = replay_statements(
        pg_conn, [("CREATE TABLE notes (id int, body text)", Origin("app.py", 3))], "code"
    )
    assert result.schema.tables["notes"].column_names == ("id", "body")
    assert result.schema.source == "code"


def test_a_migration_with_dollar_quoted_bodies_replays_on_the_server(
    pg_conn: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_accounts.sql").write_text(
        "CREATE TABLE accounts (id serial PRIMARY KEY, updated_at timestamptz);\n"
    )
    (folder / "002_touch.sql").write_text(
        "CREATE FUNCTION touch() RETURNS trigger AS $$\n"
        "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n"
        "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts\n"
        "  FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "CREATE FUNCTION label(n int) RETURNS text AS $fn$ SELECT 'n;' || n $fn$ LANGUAGE sql;\n"
        "ALTER TABLE accounts ADD COLUMN note text DEFAULT E'it\\'s; fine';\n"
    )
    result = replay_migrations(pg_conn, folder, tmp_path)
    assert result.errors == ()
    assert [(Path(s.path).name, s.line) for s in result.statements] == [
        ("001_accounts.sql", 1),
        ("002_touch.sql", 1),
        ("002_touch.sql", 7),
        ("002_touch.sql", 9),
        ("002_touch.sql", 10),
    ]
    assert result.schema.tables["accounts"].column_names == ("id", "updated_at", "note")
    assert pg_conn.execute("SELECT to_regproc('touch')").fetchone() == (None,)

"""A project on the test server for the fix tests: a pyproject.toml naming the server, two
migrations (the second not applied on the server) and code that uses what it defines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIGRATION_1 = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n"
MIGRATION_2 = (
    "CREATE TABLE orders (id serial PRIMARY KEY, user_id integer NOT NULL, total integer);\n"
    "CREATE INDEX idx_orders_user ON orders (user_id);\n"
    "ALTER TABLE users ADD COLUMN nickname text;\n"
)
CODE = """def orders_of(conn, user_id):
    return conn.execute("SELECT id, total FROM orders WHERE user_id = %s", (user_id,)).fetchall()


def nick(conn, user_id):
    return conn.execute("SELECT nickname FROM users WHERE id = %s", (user_id,)).fetchone()
"""


def shop(root: Path, url: str, conn: Any) -> Path:
    """Write the project at `root`, its server having applied the first migration only."""
    (root / "migrations").mkdir()
    (root / "migrations" / "001_users.sql").write_text(MIGRATION_1)
    (root / "migrations" / "002_orders.sql").write_text(MIGRATION_2)
    (root / "app").mkdir()
    (root / "app" / "db.py").write_text(CODE)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\n\n[tool.dbheal]\ndatabase = "{url}"\n'
        'migrations = "migrations"\n'
    )
    conn.execute(MIGRATION_1)
    return root


def server_target(root: Path, url: str) -> Path:
    """The file standing for the server of `url` in a project at `root` whose pyproject.toml
    names that server (the fix engine connects only to a server the project names)."""
    from dbheal_lsp.databases.postgres.fix_target import server_file

    (root / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{url}"\n')
    return server_file(root, url)


def tables(conn: Any) -> set[str]:
    """The tables of the public schema."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {str(r[0]) for r in rows}


def columns(conn: Any, table: str) -> dict[str, str]:
    """The columns of `table` with their types."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def nothing_left_behind(conn: Any) -> list[str]:
    """What another session left on the server: open transactions, locks, prepared statements."""
    found = conn.execute(
        "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
    ).fetchall()
    locks = conn.execute(
        "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid <> pg_backend_pid() AND c.relnamespace = 'public'::regnamespace"
    ).fetchall()
    prepared = conn.execute("SELECT name FROM pg_prepared_statements").fetchall()
    return [str(r[0]) for r in (*found, *locks, *prepared)]

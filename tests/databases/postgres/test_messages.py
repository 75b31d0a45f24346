"""What the findings say and where they point on a PostgreSQL server: the messages name
PostgreSQL (the judge's `engine`), and a finding is placed where the server's position says,
for every kind, even when the same token comes earlier in the statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_dbheal

APP = (
    "def run(cur, v):\n"
    '    cur.execute("SELECT id FROM users WHERE id = %s ORDER BY id id", (v,))\n'
    '    cur.execute("SELECT o.total FROM orders o JOIN items i ON i.order_id = o.id '
    'WHERE i.total > %s", (v,))\n'
    '    cur.execute("SELECT id FROM orders WHERE note = %s", (v,))\n'
    '    cur.execute("SELECT orders FROM users, orders_log AS orders", ())\n'
)


def test_messages_name_postgresql_and_findings_sit_where_the_server_says(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    pg_conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text)")
    pg_conn.execute("CREATE TABLE orders (id int PRIMARY KEY, total int, note text)")
    pg_conn.execute("CREATE TABLE items (id int PRIMARY KEY, order_id int)")
    (tmp_path / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{pg_url}"\n')
    (tmp_path / "app.py").write_text(APP)
    run = run_dbheal(tmp_path, "check")
    lines = [line for line in run.stdout.splitlines() if line.startswith("app.py:")]
    source = APP.splitlines()
    found = {}
    for line in lines:
        where, _, rest = line.partition(": ")
        _, row, column = where.split(":")
        found[rest.split()[1]] = (int(row), int(column))
    assert set(found) >= {"SQL_SYNTAX", "MISSING_COLUMN", "MISSING_INDEX"}, run.stdout
    # The syntax error is the second `id` of `ORDER BY id id`, not the first of the line.
    row, column = found["SQL_SYNTAX"]
    assert row == 2 and column - 1 == source[1].index("id id") + 3, run.stdout
    # `i.total`, not the `o.total` before it.
    row, column = found["MISSING_COLUMN"]
    assert row == 3 and column - 1 == source[2].index("i.total") + 2, run.stdout
    assert "PostgreSQL rejects this statement" in run.stdout
    assert "would let PostgreSQL search it" in run.stdout
    assert "SQLite" not in run.stdout

"""examples/accounts-pg healed on a real server: `dbheal heal --yes` applies what it can (the
table of migration 004, the index, a cast removal where the type change would lose values),
`check` shows what is left, `history` lists the fixes and `rollback` undoes them; `migrate`
queues, plans and applies the same fixes one at a time. The URL carries a password, never shown.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_dbheal
from tests.databases.postgres.fixes_project import nothing_left_behind, tables
from tests.databases.postgres.test_cli import PASSWORD, with_password
from tests.databases.postgres.test_example_accounts import _copy

# A lookup whose int() cast disagrees with the text column: sessions hold a token that is no
# number, so the type change would lose it and heal removes the cast instead.
CAST = (
    "\n\ndef session_by_number(token: str) -> list[tuple[object, ...]]:\n"
    '    return fetch_all("SELECT account_id FROM sessions WHERE token = %s", (int(token),))\n'
)
LEFT = [
    (9, "MISSING_COLUMN"),
    (24, "SQL_SYNTAX"),
    (28, "SELECT_STAR"),
    (44, "PARAMETER_MISMATCH"),
    (63, "SQL_INJECTION"),
    (67, "DYNAMIC_IDENTIFIER"),
    (72, "TYPE_MISMATCH"),
]


@pytest.fixture
def demo(pg_url: str, tmp_path: Path) -> Path:
    """The example loaded with migrations 001-003, plus the cast and a session to lose."""
    demo = _copy(tmp_path)
    subprocess.run([sys.executable, "load_db.py", pg_url], cwd=demo, check=True, timeout=60)
    with (demo / "accounts" / "routes.py").open("a", encoding="utf-8") as routes:
        routes.write(CAST)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (email, owner) VALUES ('a@example.com', 'Ann')")
        conn.execute("INSERT INTO sessions VALUES ('12', 1, now()), ('abc', 1, now())")
    return demo


def _issues(demo: Path, env: dict[str, str]) -> list[tuple[int, str]]:
    run = run_dbheal(demo, "check", "--format", "json", "--no-cache", env=env)
    assert PASSWORD not in run.stdout + run.stderr
    return sorted((i["line"], i["type"]) for i in json.loads(run.stdout))


def _history(demo: Path, env: dict[str, str]) -> list[tuple[str, str, str]]:
    """(fix id, status, title) of each fix `dbheal history` lists, newest first."""
    run = run_dbheal(demo, "history", env=env)
    assert run.returncode == 0, run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    row = re.compile(r"(\S+)\s+\S+\s+(rolled back|\S+)\s+\S+\s+(.*)")
    found = [row.match(line) for line in run.stdout.splitlines() if line[:1].isdigit()]
    return [(m[1], m[2], m[3]) for m in found if m is not None]


def test_heal_then_check_history_and_rollback(demo: Path, pg_url: str) -> None:
    env = {"DATABASE_URL": with_password(pg_url)}
    run = run_dbheal(demo, "heal", "--yes", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    applied = [line for line in run.stdout.splitlines() if line.startswith("[applied]")]
    assert [line.split(" (fix ")[0] for line in applied] == [
        "[applied] applied: Create table api_keys from 004_api_keys.sql",
        "[applied] applied: Create index idx_accounts_owner on accounts(owner)",
        "[applied] edited accounts/routes.py instead of the lossy type change: "
        "Remove the int() cast (sessions.token is text)",
    ]
    assert "ctid (0,2): 'abc' would not convert (integer)" in run.stdout
    assert "Healed 3 of 3 listed (1 by a code fix instead of a type change)." in run.stdout
    routes = (demo / "accounts" / "routes.py").read_text(encoding="utf-8")
    assert "(token,))\n" in routes and "int(token)" not in routes
    assert (demo / "migrations" / "005_add_index_accounts_owner.sql").exists()

    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert "api_keys" in tables(conn)
        assert conn.execute("SELECT to_regclass('public.idx_accounts_owner')").fetchone() == (
            "idx_accounts_owner",
        )
        # The type change was refused: the column and its values are as they were.
        assert conn.execute("SELECT token FROM sessions ORDER BY token").fetchall() == [
            ("12",),
            ("abc",),
        ]
        assert nothing_left_behind(conn) == []

    # The index on the new table is asked for now that the table exists: heal's next run.
    assert _issues(demo, env) == sorted([*LEFT, (78, "MISSING_INDEX")])

    history = _history(demo, env)
    assert [(status, title) for _, status, title in history] == [
        ("applied", "Remove the int() cast (sessions.token is text)"),
        ("applied", "Create index idx_accounts_owner on accounts(owner)"),
        ("applied", "Create table api_keys from 004_api_keys.sql"),
    ]

    # Undo the last schema fix (the code fix first: rollback goes newest first).
    for fix_id, _, _ in history[:2]:
        run = run_dbheal(demo, "rollback", "--yes", fix_id, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"Rolled back {fix_id}" in run.stdout
        assert PASSWORD not in run.stdout + run.stderr
    assert "int(token)" in (demo / "accounts" / "routes.py").read_text(encoding="utf-8")
    assert not (demo / "migrations" / "005_add_index_accounts_owner.sql").exists()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('public.idx_accounts_owner')").fetchone() == (None,)
        assert "api_keys" in tables(conn)
        assert nothing_left_behind(conn) == []
    statuses = [status for _, status, _ in _history(demo, env)]
    assert statuses == ["rolled back", "rolled back", "undone", "undone", "applied"]
    assert _issues(demo, env) == sorted(
        [*LEFT, (13, "MISSING_INDEX"), (78, "MISSING_INDEX"), (82, "TYPE_MISMATCH")]
    )


def test_migrate_lists_plans_and_applies_on_the_server(demo: Path, pg_url: str) -> None:
    url = with_password(pg_url)
    listed = run_dbheal(demo, "migrate", "list", "--database", url)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = [line.split(None, 3) for line in listed.stdout.splitlines() if line.strip()[:1] == "1"]
    assert [r[3] for r in rows] == ["Create table api_keys from 004_api_keys.sql"]
    assert "Create index idx_accounts_owner on accounts(owner)" in listed.stdout

    plan = run_dbheal(demo, "migrate", "plan", "1", "--database", url)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "CREATE TABLE api_keys (" in plan.stdout
    assert "Dry run: would succeed" in plan.stdout
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert "api_keys" not in tables(conn)  # the dry run changed nothing

    applied = run_dbheal(demo, "migrate", "apply", "1", "--yes", "--database", url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "[applied] applied: Create table api_keys from 004_api_keys.sql" in applied.stdout
    for run in (listed, plan, applied):
        assert PASSWORD not in run.stdout + run.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert "api_keys" in tables(conn)
        assert nothing_left_behind(conn) == []
    again = run_dbheal(demo, "migrate", "list", "--database", url)
    assert "api_keys from 004" not in again.stdout
    assert "Create index idx_api_keys_key_hash on api_keys(key_hash)" in again.stdout

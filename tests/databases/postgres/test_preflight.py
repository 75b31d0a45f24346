"""A server's integrity (its foreign keys hold, no index invalid) and the locks other sessions
hold, read before a fix changes it: on a real server, nothing left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from dbheal_lsp.databases.postgres.database import PostgresDatabase
from dbheal_lsp.databases.postgres.preflight import lock_holders
from tests.conftest import run_dbheal
from tests.databases.postgres.fixes_project import columns, nothing_left_behind, shop, tables
from tests.databases.postgres.test_cli import PASSWORD, with_password

SCHEMA = (
    "CREATE TABLE accounts (id int PRIMARY KEY, code text);"
    "CREATE TABLE ledger (id int PRIMARY KEY, account_id int, amount int);"
)


def test_a_sound_database_is_ok(pg_conn: Any, pg_url: str) -> None:
    pg_conn.execute(SCHEMA)
    pg_conn.execute("ALTER TABLE ledger ADD FOREIGN KEY (account_id) REFERENCES accounts (id)")
    pg_conn.execute("INSERT INTO accounts VALUES (1, 'a'); INSERT INTO ledger VALUES (1, 1, 5)")
    database = PostgresDatabase(pg_url)
    try:
        checked = database.integrity(full=False, busy_timeout=1, max_rows=10)
    finally:
        database.close()
    assert (checked.lines, checked.violations, checked.violation_count) == (("ok",), (), 0)
    assert nothing_left_behind(pg_conn) == []


def test_orphan_rows_and_an_invalid_index_are_found(pg_conn: Any, pg_url: str) -> None:
    pg_conn.execute(SCHEMA)
    pg_conn.execute("INSERT INTO accounts VALUES (1, 'a'), (2, 'a')")
    # Rows written before a foreign key added NOT VALID are never checked by the server.
    pg_conn.execute("INSERT INTO ledger VALUES (1, 1, 5), (2, 7, 5), (3, 8, 5), (4, NULL, 1)")
    pg_conn.execute(
        "ALTER TABLE ledger ADD CONSTRAINT ledger_account FOREIGN KEY (account_id) "
        "REFERENCES accounts (id) NOT VALID"
    )
    # A unique index built concurrently over duplicates fails and stays, invalid.
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_conn.execute("CREATE UNIQUE INDEX CONCURRENTLY accounts_code ON accounts (code)")
    database = PostgresDatabase(pg_url)
    try:
        checked = database.integrity(full=True, busy_timeout=1, max_rows=1)
    finally:
        database.close()
    assert checked.lines == (
        "index accounts_code on accounts is invalid (pg_index.indisvalid = false; a failed "
        'CREATE INDEX CONCURRENTLY?): the planner never uses it; REINDEX INDEX "accounts_code" '
        "or drop it",
    )
    assert checked.violation_count == 2  # the NULL key is not checked (MATCH SIMPLE)
    assert [str(v) for v in checked.violations] == ["ledger a row refers to a missing accounts row"]
    assert nothing_left_behind(pg_conn) == []


def test_locks_of_other_sessions_are_named_and_waited_for(pg_conn: Any, pg_url: str) -> None:
    pg_conn.execute(SCHEMA)
    database = PostgresDatabase(pg_url)
    try:
        assert database.lock_holders() == []
        assert database.write_lock_free(wait=0)
        with psycopg.connect(pg_url) as other:
            other.execute("SELECT count(*) FROM ledger").fetchone()  # its transaction stays open
            pid = other.info.backend_pid
            (held,) = database.lock_holders()
            assert (held.table, held.mode, held.pid) == ("ledger", "AccessShareLock", pid)
            assert str(held).startswith(f"ledger (AccessShareLock, pid {pid}, idle in transaction")
            assert database.lock_holders(["accounts"]) == []
            assert not database.write_lock_free(wait=0.3)
            other.rollback()
            assert database.write_lock_free(wait=0.3)
        # Our own session's locks are not another session's.
        pg_conn.execute("BEGIN")
        pg_conn.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        assert lock_holders(pg_conn, "public") == []
        pg_conn.execute("ROLLBACK")
    finally:
        database.close()


def test_heal_says_which_session_holds_the_lock_and_changes_nothing(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    root = shop(tmp_path, with_password(pg_url), pg_conn)
    with psycopg.connect(pg_url) as other:
        other.execute("SELECT count(*) FROM users").fetchone()
        pid = other.info.backend_pid
        run = run_dbheal(root, "heal", "--yes", "--lock-timeout", "0.5")
        other.rollback()
    assert run.returncode == 2, run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    waiting, refused = run.stderr.strip().splitlines()
    assert waiting.startswith(
        f"dbheal: another session holds a lock on users (AccessShareLock, pid {pid}, idle in "
        "transaction, transaction open "
    )
    assert waiting.endswith("waiting up to 0.5 s for it to end (see --lock-timeout)")
    assert refused.startswith("dbheal: error: postgresql://postgres@/")
    assert refused.endswith(
        "(waited 0.5 s): nothing changed; try again when its transaction is done, or wait "
        "longer with --lock-timeout SECONDS"
    )
    assert "orders" not in tables(pg_conn)

    # Once the session is gone, heal goes ahead.
    run = run_dbheal(root, "heal", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "another session" not in run.stderr
    assert "orders" in tables(pg_conn)
    assert nothing_left_behind(pg_conn) == []


def test_a_lock_on_a_table_no_fix_touches_does_not_stop_heal(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    root = shop(tmp_path, with_password(pg_url), pg_conn)
    pg_conn.execute("CREATE TABLE audit (id int PRIMARY KEY)")
    with psycopg.connect(pg_url) as other:
        other.execute("SELECT count(*) FROM audit").fetchone()  # a report's long transaction
        run = run_dbheal(root, "heal", "--yes", "--lock-timeout", "0.5")
        other.rollback()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "another session" not in run.stderr
    assert "orders" in tables(pg_conn)
    assert nothing_left_behind(pg_conn) == []


def test_heal_with_integrity_checks_the_foreign_keys_of_the_changed_table(
    pg_conn: Any, pg_url: str, tmp_path: Path
) -> None:
    root = shop(tmp_path, with_password(pg_url), pg_conn)
    pg_conn.execute("CREATE TABLE teams (id int PRIMARY KEY)")
    pg_conn.execute("ALTER TABLE users ADD COLUMN team int")
    pg_conn.execute("INSERT INTO users (email, team) VALUES ('a@example.com', 9)")
    pg_conn.execute("ALTER TABLE users ADD FOREIGN KEY (team) REFERENCES teams (id) NOT VALID")
    run = run_dbheal(root, "heal", "--yes", "--integrity")
    assert PASSWORD not in run.stdout + run.stderr
    assert (
        "  ok   integrity: orders has 0 row(s); its foreign keys hold, none of its indexes "
        "invalid" in run.stdout
    ), run.stdout
    assert "  FAIL integrity: 1 row(s): users a row refers to a missing teams row" in run.stdout, (
        run.stdout
    )
    assert "orders" in tables(pg_conn)
    assert "nickname" not in columns(pg_conn, "users")  # rolled back
    assert nothing_left_behind(pg_conn) == []

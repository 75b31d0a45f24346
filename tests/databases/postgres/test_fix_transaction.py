"""The fix's transaction on the real server: a lock held by another session stops the fix on
lock_timeout with nothing changed; a large table's index is built CONCURRENTLY and checked
valid, an invalid one dropped; nothing is left behind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg

from dbheal_lsp.databases.postgres.fix_plans import create_index_plan
from dbheal_lsp.databases.postgres.fix_transaction import PostgresTransaction, catalog_version
from dbheal_lsp.fixes.apply import apply_plan
from dbheal_lsp.model import MigrationPlan, PlanStep
from tests.databases.postgres.fixes_project import columns, nothing_left_behind, server_target


def _add_column(version: int) -> MigrationPlan:
    return MigrationPlan(
        id="add_column:t.note",
        kind="add_column",
        title="Add column t.note",
        description="",
        table="t",
        column="note",
        steps=(PlanStep("ALTER TABLE t ADD COLUMN note text"),),
        expected="t has a column note",
        schema_version=version,
        check_sql=("SELECT note FROM t WHERE id = ?",),
    )


def test_a_lock_held_by_another_session_stops_the_fix_on_lock_timeout(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    plan = _add_column(catalog_version(pg_conn, "public"))
    with psycopg.connect(pg_url) as other:  # not autocommit: its lock stays until rollback
        other.execute("LOCK TABLE t IN ACCESS SHARE MODE")
        pid = other.info.backend_pid
        started = time.monotonic()
        outcome = apply_plan(server_target(tmp_path, pg_url), plan, lock_timeout=0.5)
        waited = time.monotonic() - started
        other.rollback()
    assert not outcome.applied
    assert "locked by another session" in outcome.message
    assert "lock_timeout" in outcome.message and "nothing was changed" in outcome.message
    # The session it waited for is named.
    assert f"held by t (AccessShareLock, pid {pid}, idle in transaction" in outcome.message
    assert waited < 5
    assert "note" not in columns(pg_conn, "t")
    assert nothing_left_behind(pg_conn) == []


def test_the_fix_commits_after_its_checks(pg_url: str, pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    plan = _add_column(catalog_version(pg_conn, "public"))
    outcome = apply_plan(server_target(tmp_path, pg_url), plan)
    assert outcome.applied, outcome.message
    names = {c.name: c.ok for c in outcome.verify.checks}
    assert names["prepares: SELECT note FROM t WHERE id = ?"]
    assert names["schema_version"]
    assert columns(pg_conn, "t")["note"] == "text"
    # Planned again at the old version: refused, the schema changed since.
    stale = apply_plan(server_target(tmp_path, pg_url), plan)
    assert not stale.applied and "the schema changed since this plan was made" in stale.message


def test_a_failed_check_rolls_the_step_back(pg_url: str, pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    plan = _add_column(catalog_version(pg_conn, "public"))
    wrong = MigrationPlan(**{**plan.__dict__, "check_sql": ("SELECT nope FROM t",)})
    outcome = apply_plan(server_target(tmp_path, pg_url), wrong)
    assert not outcome.applied
    assert outcome.message.startswith("rolled back: prepares: SELECT nope FROM t failed")
    assert "note" not in columns(pg_conn, "t")


def _large(conn: Any) -> None:
    conn.execute("CREATE TABLE big (id int, k int)")
    conn.execute("INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, 120000) g")
    conn.execute("ANALYZE big")


def test_a_large_tables_index_is_built_concurrently_and_checked_valid(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    _large(pg_conn)
    plan = create_index_plan(pg_conn, "public", "big", ("k",), None, -1)
    assert plan.steps[0].sql.startswith("CREATE INDEX CONCURRENTLY")
    outcome = apply_plan(server_target(tmp_path, pg_url), plan)
    assert outcome.applied, outcome.message
    assert {c.name: c.detail for c in outcome.verify.checks}["index"] == "idx_big_k valid"
    valid = pg_conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_big_k'::regclass"
    ).fetchone()
    assert valid[0] is True
    assert nothing_left_behind(pg_conn) == []


def test_an_invalid_concurrent_index_is_dropped_and_said(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    _large(pg_conn)
    plan = create_index_plan(pg_conn, "public", "big", ("k",), None, -1)
    sql = plan.steps[0].sql.replace("CREATE INDEX", "CREATE UNIQUE INDEX")  # k repeats
    unique = MigrationPlan(**{**plan.__dict__, "steps": (PlanStep(sql),)})
    outcome = apply_plan(server_target(tmp_path, pg_url), unique)
    assert not outcome.applied
    assert "the invalid index idx_big_k it left was dropped" in outcome.message
    left = pg_conn.execute("SELECT 1 FROM pg_class WHERE relname = 'idx_big_k'").fetchone()
    assert left is None
    assert nothing_left_behind(pg_conn) == []


def test_a_small_tables_index_is_built_in_the_transaction(pg_conn: Any) -> None:
    pg_conn.execute("CREATE TABLE small (id int, k int)")
    plan = create_index_plan(pg_conn, "public", "small", ("k",), None, -1)
    assert plan.steps[0].sql == 'CREATE INDEX "idx_small_k" ON "small" ("k")'


def test_close_rolls_back_what_is_open(pg_url: str, pg_conn: Any) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    transaction = PostgresTransaction(pg_url, lock_timeout=1)
    transaction.begin()
    transaction.execute("ALTER TABLE t ADD COLUMN note text")
    transaction.close()
    assert "note" not in columns(pg_conn, "t")
    assert nothing_left_behind(pg_conn) == []

"""Tests of the executor: real SQLite files, real locks, a real SIGKILL; no mocks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from dbheal_lsp.databases.schema_fixes import FixTransaction
from dbheal_lsp.databases.sqlite.transaction import connection_of
from dbheal_lsp.fixes.apply import (
    ApplyOutcome,
    StepFailed,
    apply_plan,
    dry_run,
    run_steps,
    schema_dry_run,
)
from dbheal_lsp.model import MigrationPlan, PlanStep, VerifyCheck, VerifyReport
from tests.fixes.apply_shop import ROWS, file_digest, lossy_shop, make_shop, plan_for, snapshot

REPO = Path(__file__).resolve().parents[2]

# The comparison the TYPE_MISMATCH was about: as TEXT, '2' sorts after '10', so "BETWEEN 2 AND
# 10" finds nothing until the column holds integers.
BETWEEN = "SELECT count(*) FROM sessions WHERE user_id BETWEEN ? AND ?"
IN_2_TO_10 = sum(1 for i in range(ROWS) if 2 <= i % 20 <= 10)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path / "shop.db")


# --- a type change that works -----------------------------------------------------------------


def test_change_type_keeps_data_indexes_triggers_views_fks_and_the_sequence(shop: Path) -> None:
    conn = sqlite3.connect(shop)
    assert conn.execute(BETWEEN, (2, 10)).fetchone()[0] == 0
    before_master = dict(conn.execute("SELECT name, sql FROM sqlite_master").fetchall())
    before_rows = conn.execute(
        "SELECT id, user_id, token, seen FROM sessions ORDER BY id"
    ).fetchall()
    conn.close()
    plan = plan_for(shop, check_sql=(BETWEEN,))

    outcome = apply_plan(shop, plan)

    assert outcome.applied, outcome.message
    assert outcome.message == "applied: Change the type of sessions.user_id to INTEGER"
    assert outcome.verify.ok
    names = [c.name for c in outcome.verify.checks]
    for wanted in (
        "schema_version",
        "copy: row count",
        "copy: rows equal",
        "lossy values",
        "quick_check",
        "foreign_key_check",
        f"prepares: {BETWEEN}",
    ):
        assert wanted in names
    assert outcome.lossy is not None and outcome.lossy.lossless
    assert outcome.lossy.total_rows == ROWS

    conn = sqlite3.connect(shop, isolation_level=None)
    assert outcome.schema_version_after == conn.execute("PRAGMA schema_version").fetchone()[0]
    info = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(sessions)")}
    assert info == {"id": "INTEGER", "user_id": "INTEGER", "token": "TEXT", "seen": "REAL"}
    # Data: every row, with user_id now an integer.
    after_rows = conn.execute(
        "SELECT id, user_id, token, seen FROM sessions ORDER BY id"
    ).fetchall()
    assert after_rows == [(i, int(u), t, s) for i, u, t, s in before_rows]
    assert conn.execute("SELECT DISTINCT typeof(user_id) FROM sessions").fetchall() == [
        ("integer",)
    ]
    # Indexes, triggers and views: all there, with their own SQL.
    after_master = dict(conn.execute("SELECT name, sql FROM sqlite_master").fetchall())
    assert after_master.keys() == before_master.keys()
    for name in ("sessions_user", "sessions_audit", "user_sessions", "events"):
        assert after_master[name] == before_master[name]
    assert after_master["sessions"] == before_master["sessions"].replace(
        "CREATE TABLE sessions", 'CREATE TABLE "sessions"'
    ).replace("user_id TEXT", "user_id INTEGER")
    assert "sqlite_autoindex_sessions_1" in after_master  # UNIQUE (token)
    # The query the issue was about now compares numbers, and uses the index.
    assert conn.execute(BETWEEN, (2, 10)).fetchone()[0] == IN_2_TO_10
    plan_rows = conn.execute("EXPLAIN QUERY PLAN " + BETWEEN, (2, 3)).fetchall()
    assert "sessions_user" in str(plan_rows)
    # The view reads the converted column.
    assert conn.execute("SELECT count(*) FROM user_sessions").fetchone()[0] == ROWS
    # sqlite_sequence kept the counter: the next id is 201, not 196.
    assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sessions'").fetchone() == (
        200,
    )
    conn.execute("INSERT INTO sessions (user_id, token) VALUES (1, 'new')")
    assert conn.execute("SELECT max(id) FROM sessions").fetchone() == (201,)
    # Foreign keys: the one pointing at sessions still works, both ways.
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO events (session_id, kind) VALUES (9999, 'x')")
    # The trigger fires, and ON DELETE CASCADE reaches events.
    conn.execute("DELETE FROM sessions WHERE id = 5")
    assert conn.execute("SELECT what FROM audit").fetchall() == [("deleted 5",)]
    assert conn.execute("SELECT count(*) FROM events WHERE session_id = 5").fetchone() == (0,)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


def test_the_rebuild_does_not_cascade_into_referencing_tables(shop: Path) -> None:
    # foreign_keys=OFF keeps DROP TABLE from deleting every event (ON DELETE CASCADE).
    plan = plan_for(shop)
    assert plan.foreign_keys_off
    assert apply_plan(shop, plan).applied
    conn = sqlite3.connect(shop)
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (149,)
    conn.close()


def test_change_type_of_a_without_rowid_table_with_a_generated_column(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE prices (
            sku TEXT NOT NULL,
            shop TEXT NOT NULL,
            cents TEXT,
            euros REAL GENERATED ALWAYS AS (cents / 100.0) VIRTUAL,
            PRIMARY KEY (sku, shop)
        ) WITHOUT ROWID;
        CREATE INDEX prices_cents ON prices(cents);
        """
    )
    conn.executemany(
        "INSERT INTO prices (sku, shop, cents) VALUES (?, ?, ?)",
        [(f"s{i}", f"shop{i % 3}", str(i * 10)) for i in range(100)],
    )
    conn.close()
    outcome = apply_plan(db, plan_for(db, "prices", "cents"))
    assert outcome.applied, outcome.message
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT cents, euros FROM prices WHERE sku = 's42'").fetchone() == (
        420,
        4.2,
    )
    assert conn.execute("SELECT count(*) FROM prices").fetchone() == (100,)
    assert (
        "WITHOUT ROWID"
        in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'prices'").fetchone()[0]
    )
    conn.close()


def test_changing_a_referenced_key_checks_the_tables_that_reference_it(tmp_path: Path) -> None:
    db = tmp_path / "fk.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT UNIQUE, label TEXT);
        CREATE TABLE uses (id INTEGER PRIMARY KEY, code TEXT REFERENCES codes(code));
        INSERT INTO codes (code, label) VALUES ('7', 'seven'), ('x7', 'ex');
        INSERT INTO uses (code) VALUES ('7'), ('x7');
        """
    )
    conn.close()
    before = snapshot(db)
    plan = plan_for(db, "codes", "code")
    # '7' still finds its parent (compared with the parent's affinity), but 'x7' is lossy and
    # becomes NULL: the row of uses that pointed at it has no parent any more.
    outcome = apply_plan(db, plan, on_lossy="null")
    assert not outcome.applied
    assert outcome.message.startswith("rolled back: foreign_key_check failed: 1 violation(s)")
    assert "uses rowid 2 has no parent in codes" in outcome.message
    assert "uses" in next(c.detail for c in outcome.verify.checks if c.name == "foreign_key_check")
    assert snapshot(db) == before


# --- refusals ---------------------------------------------------------------------------------


def test_a_database_locked_by_another_connection(shop: Path) -> None:
    plan = plan_for(shop)
    before, before_file = snapshot(shop), file_digest(shop)
    other = sqlite3.connect(shop, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        outcome = apply_plan(shop, plan, lock_timeout=0.4)
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not outcome.applied
    assert outcome.message == f"database is locked by another connection: {shop}"
    assert 0.35 <= waited < 3.0
    assert outcome.schema_version_after == -1
    assert snapshot(shop) == before
    assert file_digest(shop) == before_file


def test_a_lock_released_within_the_timeout_is_waited_for(shop: Path) -> None:
    plan = plan_for(shop)
    other = sqlite3.connect(shop, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(0.3, lambda: other.execute("ROLLBACK"))
    timer.start()
    try:
        outcome = apply_plan(shop, plan, lock_timeout=5.0)
    finally:
        timer.join()
        other.close()
    assert outcome.applied, outcome.message


def test_a_read_only_database_file(shop: Path) -> None:
    # chmod does not stop root from writing, so the executor reads the permission bits
    # itself: this test fails for root too if it did not.
    plan = plan_for(shop)
    before, before_file = snapshot(shop), file_digest(shop)
    shop.chmod(0o444)
    try:
        outcome = apply_plan(shop, plan)
        assert not outcome.applied
        assert outcome.message == f"database is read-only: {shop}"
        assert [c.name for c in outcome.verify.failures()] == ["database"]
        lossy, report = dry_run(shop, plan)
        assert lossy is None and not report.ok
        assert file_digest(shop) == before_file
    finally:
        shop.chmod(0o644)
    assert snapshot(shop) == before


def test_a_database_in_wal_mode_keeps_its_journal_mode(tmp_path: Path) -> None:
    db = make_shop(tmp_path / "wal.db")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    conn.close()
    outcome = apply_plan(db, plan_for(db))
    assert outcome.applied, outcome.message
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT DISTINCT typeof(user_id) FROM sessions").fetchall() == [
        ("integer",)
    ]
    conn.close()


def test_a_missing_database_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    plan = MigrationPlan("x", "create_table", "t", "", "t", (PlanStep("CREATE TABLE t (a)"),), "")
    outcome = apply_plan(missing, plan)
    assert (outcome.applied, outcome.message) == (False, f"database file not found: {missing}")
    assert not missing.exists()


def test_a_stale_plan_is_refused(shop: Path) -> None:
    plan = plan_for(shop)
    conn = sqlite3.connect(shop)
    conn.execute("CREATE TABLE later (a)")
    conn.close()
    before = snapshot(shop)
    outcome = apply_plan(shop, plan)
    assert not outcome.applied
    assert outcome.message == "the schema changed since this plan was made: plan again"
    assert outcome.verify.failures()[0].name == "schema_version"
    assert snapshot(shop) == before


def test_an_unknown_on_lossy_is_a_programming_error(shop: Path) -> None:
    with pytest.raises(ValueError, match="on_lossy"):
        apply_plan(shop, plan_for(shop), on_lossy="sometimes")


# --- failed verifications are rolled back -----------------------------------------------------


def test_a_failing_extra_check_rolls_back(shop: Path) -> None:
    before = snapshot(shop)
    seen: list[str] = []

    def reanalyse(tx: FixTransaction) -> VerifyReport:
        # It runs inside the transaction: it sees the new type.
        seen.append(
            connection_of(tx)
            .execute("SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'")
            .fetchone()[0]
        )
        return VerifyReport((VerifyCheck("issue resolved", False, "TYPE_MISMATCH still there"),))

    outcome = apply_plan(shop, plan_for(shop), extra_check=reanalyse)
    assert seen == ["INTEGER"]
    assert not outcome.applied
    assert outcome.message == "rolled back: issue resolved failed: TYPE_MISMATCH still there"
    assert [c.name for c in outcome.verify.failures()] == ["issue resolved"]
    assert snapshot(shop) == before


def test_an_extra_check_that_raises_rolls_back(shop: Path) -> None:
    before = snapshot(shop)

    def broken(tx: FixTransaction) -> VerifyReport:
        raise RuntimeError("analysis crashed")

    outcome = apply_plan(shop, plan_for(shop), extra_check=broken)
    assert not outcome.applied
    assert outcome.message == "rolled back: extra check failed: RuntimeError: analysis crashed"
    assert snapshot(shop) == before


def test_a_copy_that_differs_is_rolled_back(shop: Path) -> None:
    # A plan whose copy is changed before the check (as a trigger on new_X would do).
    plan = plan_for(shop)
    at = [s.kind for s in plan.steps].index("verify_copy")
    tampered = replace(
        plan,
        steps=(
            *plan.steps[:at],
            PlanStep("UPDATE new_sessions SET token = 'stolen' WHERE id = 17"),
            *plan.steps[at:],
        ),
    )
    before = snapshot(shop)
    outcome = apply_plan(shop, tampered)
    assert not outcome.applied
    assert outcome.message == (
        "copy: rows equal: 1 row(s) differ from their copy; the first has id = 17"
    )
    assert snapshot(shop) == before


def add_column_then(*steps: str, check_sql: tuple[str, ...] = ()) -> MigrationPlan:
    """A plan that adds sessions.extra and then runs `steps`: it changes the file before it
    can fail, so a rollback has something to undo."""
    return MigrationPlan(
        "x",
        "add_column",
        "add",
        "",
        "sessions",
        tuple(PlanStep(sql) for sql in ("ALTER TABLE sessions ADD COLUMN extra TEXT", *steps)),
        "",
        check_sql=check_sql,
    )


def test_a_failing_step_is_rolled_back(shop: Path) -> None:
    before = snapshot(shop)
    outcome = apply_plan(shop, add_column_then("SELECT nope FROM x"))
    assert not outcome.applied
    assert outcome.message == "step 2 failed: no such table: x"
    assert snapshot(shop) == before


def test_a_check_sql_that_does_not_prepare_rolls_back(shop: Path) -> None:
    before = snapshot(shop)
    plan = add_column_then(
        check_sql=("SELECT extra FROM sessions WHERE id = ?", "SELECT missing FROM sessions")
    )
    outcome = apply_plan(shop, plan)
    assert not outcome.applied
    assert [c.name for c in outcome.verify.failures()] == ["prepares: SELECT missing FROM sessions"]
    assert outcome.verify.failures()[0].detail == "no such column: missing"
    assert snapshot(shop) == before


def test_a_new_index_must_be_used_by_its_query(shop: Path) -> None:
    def index_plan(check: str) -> MigrationPlan:
        return MigrationPlan(
            "create_index:x",
            "create_index",
            "index",
            "",
            "events",
            (PlanStep("CREATE INDEX idx_events_kind ON events(kind)"),),
            "",
            check_sql=(check,),
            index_columns=("kind",),
        )

    before = snapshot(shop)
    unused = apply_plan(shop, index_plan("SELECT * FROM events WHERE id = :id"))
    assert not unused.applied
    assert [c.name for c in unused.verify.failures()] == [
        "index used: SELECT * FROM events WHERE id = :id"
    ]
    assert "USING INTEGER PRIMARY KEY" in unused.verify.failures()[0].detail
    assert snapshot(shop) == before
    used = apply_plan(shop, index_plan("SELECT * FROM events WHERE kind = ?"))
    assert used.applied, used.message
    assert any(
        c.name == "index created" and c.detail == "idx_events_kind" for c in used.verify.checks
    )


# --- dry run ----------------------------------------------------------------------------------


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    before, before_file = snapshot(db), file_digest(db)
    lossy, report = dry_run(db, plan_for(db, "orders", "qty"))
    assert report.ok, report.failures()
    assert lossy is not None and lossy.lossy_count == 5
    assert "copy: rows equal" in [c.name for c in report.checks]
    lossy, report = dry_run(db, plan_for(db))
    assert report.ok and lossy is not None and lossy.lossless
    assert snapshot(db) == before
    assert file_digest(db) == before_file


def test_dry_run_reports_what_would_fail(shop: Path) -> None:
    conn = sqlite3.connect(shop)
    conn.execute("CREATE TABLE later (a)")
    conn.close()
    stale = MigrationPlan(
        "x", "create_table", "t", "", "t", (PlanStep("CREATE TABLE t (a)"),), "", schema_version=1
    )
    lossy, report = dry_run(shop, stale)
    assert lossy is None
    assert [c.name for c in report.failures()] == ["schema_version"]


# --- a process killed in the middle -----------------------------------------------------------

KILLED = textwrap.dedent(
    """
    import sqlite3, sys
    from pathlib import Path
    from dbheal_lsp.fixes.apply import apply_plan
    from dbheal_lsp.databases.sqlite.rebuild import change_type_plan

    db = Path(sys.argv[1])
    conn = sqlite3.connect(db)
    plan = change_type_plan(conn, "big", "n", "INTEGER")
    conn.close()
    print("planned", flush=True)
    outcome = apply_plan(db, plan)
    print("finished", outcome.applied, flush=True)
    """
)


def test_a_process_killed_while_copying_leaves_the_old_database(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, n TEXT, pad TEXT)")
    conn.execute(
        "INSERT INTO big (n, pad) WITH RECURSIVE c(i) AS "
        "(SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000) "
        "SELECT CAST(i % 977 AS TEXT), 'row ' || i FROM c"
    )
    conn.execute("CREATE INDEX big_n ON big(n)")
    conn.close()
    before = snapshot(db)
    size = db.stat().st_size
    journal = Path(f"{db}-journal")

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    killed_at = None
    try:
        while time.monotonic() < deadline and child.poll() is None:
            # The journal exists once the transaction writes; the file grows past its old
            # size once pages of new_big reach the disk: the copy is under way.
            if journal.exists() and db.stat().st_size > size + 8_000_000:
                killed_at = db.stat().st_size
                os.kill(child.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        if child.poll() is None and killed_at is None:
            child.kill()
        out, err = child.communicate(timeout=10)
    assert killed_at is not None, f"the copy was never seen: {out!r} {err!r}"
    # Killed with a quarter of the copy or so on disk, long before the rebuild would be done.
    assert size + 8_000_000 < killed_at < size * 2
    assert child.returncode == -signal.SIGKILL
    assert "finished" not in out
    assert journal.exists()  # a hot journal: the transaction was cut short

    # The next connection rolls the journal back: the database is exactly the old one.
    assert snapshot(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute(
        "SELECT type FROM pragma_table_info('big') WHERE name = 'n'"
    ).fetchone() == ("TEXT",)
    conn.close()
    assert not journal.exists()
    assert db.stat().st_size == size


def test_outcome_is_a_frozen_value() -> None:
    outcome = ApplyOutcome(False, VerifyReport(), None, "m", -1)
    with pytest.raises(AttributeError):
        outcome.message = "x"  # type: ignore[misc]


# --- the dry run on the schema alone ------------------------------------------------------------


def test_schema_dry_run_runs_the_plan_on_the_schema_and_touches_nothing(shop: Path) -> None:
    before, before_file = snapshot(shop), file_digest(shop)
    plan = plan_for(shop)
    seen: list[set[str]] = []

    def extra(tx: FixTransaction) -> VerifyReport:
        # The re-analysis sees the schema after the plan, in the copy, with no rows.
        conn = connection_of(tx)
        seen.append({str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")})
        declared = conn.execute(
            "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
        ).fetchone()
        rows = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        return VerifyReport((VerifyCheck("after", declared == ("INTEGER",) and rows == 0),))

    report = schema_dry_run(shop, plan, extra_check=extra)
    assert report.ok, report.failures()
    names = [c.name for c in report.checks]
    assert names[0] == "schema_version" and "quick_check" in names and "after" in names
    assert {"sessions_user", "sessions_audit", "user_sessions"} <= seen[0]  # all recreated
    assert snapshot(shop) == before and file_digest(shop) == before_file

    stale = replace(plan, schema_version=plan.schema_version - 1)
    report = schema_dry_run(shop, stale)
    assert [c.name for c in report.failures()] == ["schema_version"]


def test_schema_dry_run_reports_a_step_that_fails(shop: Path) -> None:
    plan = plan_for(shop)
    broken = replace(plan, steps=(*plan.steps, PlanStep("CREATE VIEW user_sessions AS SELECT 1")))
    report = schema_dry_run(shop, broken)
    assert not report.ok
    assert "already exists" in report.failures()[0].detail


def test_run_steps_runs_the_steps_then_the_callers_check_in_the_callers_transaction() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    steps = (PlanStep("CREATE TABLE t (a)"), PlanStep("CREATE INDEX t_a ON t (a)"))
    plan = MigrationPlan("x", "create_table", "t", "", "t", steps, "")
    seen: list[int] = []
    conn.execute("BEGIN")
    run_steps(conn, plan, lambda c: seen.append(c.execute("SELECT count(*) FROM t").fetchone()[0]))
    assert seen == [0]
    assert conn.in_transaction  # the caller commits or rolls back
    conn.execute("ROLLBACK")
    failing = replace(plan, steps=(steps[0], PlanStep("CREATE TABLE t (b)")))
    with pytest.raises(StepFailed, match=r"^table t already exists$") as raised:
        run_steps(conn, failing, lambda c: seen.append(-1))
    assert (raised.value.number, raised.value.step) == (2, failing.steps[1])
    assert isinstance(raised.value.error, sqlite3.OperationalError)
    unknown = replace(plan, steps=(PlanStep("-", kind="verify_copy"),))
    with pytest.raises(StepFailed, match="unknown step kind 'verify_copy'"):
        run_steps(conn, unknown, lambda c: None)
    assert seen == [0]
    conn.close()

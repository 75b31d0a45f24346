"""Verifying a rebuilt table's copy row by row (`databases/sqlite/copy_check.py`)."""

from __future__ import annotations

import sqlite3

import pytest

from dbheal_lsp.databases.sqlite.copy_check import compare_copy, rewritten_values, verify_copy
from dbheal_lsp.databases.sqlite.lossless import lossy_report
from dbheal_lsp.databases.sqlite.rebuild import change_type_plan
from dbheal_lsp.model import MigrationPlan
from tests.fixes.rebuild_shop import shop_connection

# --- verifying the copy -----------------------------------------------------------------------


def _text_db(values: list[str | None]) -> sqlite3.Connection:
    """An in-memory table n (id INTEGER PRIMARY KEY, v TEXT) holding `values`, ids from 1."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO n (v) VALUES (?)", [(value,) for value in values])
    return conn


def _copy_until_verify(conn: sqlite3.Connection, plan: MigrationPlan) -> None:
    """Begin a transaction and run the steps of `plan` before its verify_copy step."""
    conn.execute("BEGIN")
    for step in plan.steps[: [s.kind for s in plan.steps].index("verify_copy")]:
        conn.execute(step.sql)


def test_verify_copy_passes_an_exact_copy_and_counts_lossy_values() -> None:
    conn = shop_connection()
    conn.execute("UPDATE sessions SET user_id = 'x' || user_id WHERE id IN (3, 4)")
    plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    _copy_until_verify(conn, plan)
    report = verify_copy(conn, plan, lossy_report(conn, "sessions", "user_id", "INTEGER"))
    assert report.ok, report.failures()
    found = compare_copy(conn, plan)
    assert (found.rows, found.lossy_count) == (20, 2)
    conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE new_sessions SET token = 'other' WHERE id = 7",
        "UPDATE new_sessions SET seen = 0.5 WHERE id = 7",
        "UPDATE new_sessions SET user_id = 99 WHERE id = 7",
        "DELETE FROM new_sessions WHERE id = 7",
        "INSERT INTO new_sessions (user_id, token) VALUES (1, 'extra')",
        # The right value, but as a blob: an INTEGER column does not convert blobs.
        "UPDATE new_sessions SET user_id = CAST('2' AS BLOB) WHERE id = 7",
    ],
)
def test_verify_copy_finds_a_changed_row(tamper: str) -> None:
    conn = shop_connection()
    conn.execute("UPDATE sessions SET user_id = '2' WHERE id = 7")
    plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    _copy_until_verify(conn, plan)
    conn.execute(tamper)
    report = verify_copy(conn, plan, None)
    assert not report.ok
    failed = {c.name: c.detail for c in report.failures()}
    assert failed.keys() & {"copy: row count", "copy: rows equal"}
    if "copy: rows equal" in failed and "extra" not in tamper:
        assert "id = 7" in failed["copy: rows equal"]
    conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    ("on_lossy", "tamper"),
    [
        ("null", "UPDATE new_n SET v = 5 WHERE id = 2"),  # a lossy value not nulled
        ("null", "UPDATE new_n SET v = NULL WHERE id = 3"),  # a lossless value nulled
        ("keep", "UPDATE new_n SET v = NULL WHERE id = 2"),  # a kept lossy value lost
        ("keep", "UPDATE new_n SET v = 4 WHERE id = 3"),
    ],
)
def test_verify_copy_checks_lossy_values_as_the_plan_treats_them(
    on_lossy: str, tamper: str
) -> None:
    conn = _text_db(["1", "x", "3", None])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy=on_lossy)
    _copy_until_verify(conn, plan)
    copied = conn.execute("SELECT v FROM new_n ORDER BY id").fetchall()
    assert copied == [(1,), (None,) if on_lossy == "null" else ("x",), (3,), (None,)]
    lossy = lossy_report(conn, "n", "v", "INTEGER")
    assert lossy.lossy_count == 1
    assert verify_copy(conn, plan, lossy).ok
    assert verify_copy(conn, plan, None).ok
    conn.execute(tamper)
    report = verify_copy(conn, plan, lossy)
    assert [c.name for c in report.failures()] == ["copy: rows equal"]
    conn.execute("ROLLBACK")


def test_verify_copy_compares_the_lossy_count_with_the_report() -> None:
    conn = _text_db(["1", "x"])
    plan = change_type_plan(conn, "n", "v", "INTEGER")
    stale = lossy_report(conn, "n", "v", "INTEGER")
    conn.execute("UPDATE n SET v = 'y' WHERE id = 1")
    _copy_until_verify(conn, plan)
    report = verify_copy(conn, plan, stale)
    assert [c.name for c in report.failures()] == ["copy: lossy values"]
    conn.execute("ROLLBACK")


def test_verify_copy_of_a_without_rowid_table() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE w (a TEXT, b TEXT, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID")
    conn.executemany(
        "INSERT INTO w VALUES (?, ?, ?)", [(f"a{i % 3}", f"b{i}", str(i)) for i in range(30)]
    )
    plan = change_type_plan(conn, "w", "v", "INTEGER")
    _copy_until_verify(conn, plan)
    assert verify_copy(conn, plan, None).ok
    conn.execute("UPDATE new_w SET v = v + 1 WHERE a = 'a1' AND b = 'b4'")
    report = verify_copy(conn, plan, None)
    assert [c.name for c in report.failures()] == ["copy: rows equal"]
    assert "a, b = 'a1', 'b4'" in report.failures()[0].detail
    conn.execute("ROLLBACK")


def test_rewritten_values_names_what_the_new_affinity_converts() -> None:
    conn = _text_db(["007", "1e3", " 5", "0x10", "abc", "12.0", "42", None])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy="keep")
    _copy_until_verify(conn, plan)
    found = rewritten_values(conn, plan)
    # Text that reads as a number is converted by the INTEGER affinity; the rest stays.
    assert found.examples == (
        "id 1: '007' would become 7 (integer)",
        "id 2: '1e3' would become 1000 (integer)",
        "id 3: ' 5' would become 5 (integer)",
        "id 6: '12.0' would become 12 (integer)",
    )
    assert (found.count, found.lossy) == (4, 6)
    conn.execute("ROLLBACK")


def test_rewritten_values_is_empty_when_every_lossy_value_is_kept() -> None:
    conn = _text_db(["abc", "0x10", "", "7"])
    plan = change_type_plan(conn, "n", "v", "INTEGER", on_lossy="keep")
    _copy_until_verify(conn, plan)
    found = rewritten_values(conn, plan)
    assert (found.count, found.lossy, found.examples) == (0, 3, ())
    conn.execute("ROLLBACK")

"""Tests of the treatment of lossy values in a type change: refused, set to NULL, or kept byte
for byte (or refused naming those SQLite would rewrite); real SQLite files, no mocks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.databases.sqlite.rebuild import lossy_mode
from dbheal_lsp.databases.sqlite.transaction import SqliteTransaction
from dbheal_lsp.fixes.apply import apply_plan
from dbheal_lsp.fixes.lossy_policy import (
    LossyPolicy,
    kept_exactly,
    lossy_note,
    lossy_policy,
    lossy_refusal,
    lossy_values,
)
from dbheal_lsp.fixes.refusal import Refused
from tests.fixes.apply_shop import ROWS, file_digest, lossy_shop, make_shop, plan_for, snapshot


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_shop(tmp_path / "shop.db")


def test_lossy_values_are_refused_by_default_and_nothing_changes(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    before, before_file = snapshot(db), file_digest(db)
    plan = plan_for(db, "orders", "qty")
    for on_lossy in ("refuse", "abort"):
        outcome = apply_plan(db, plan, on_lossy=on_lossy)
        assert not outcome.applied
        assert outcome.message.startswith(
            "refused: 5 of 9 value(s) of orders.qty would not convert losslessly to INTEGER "
            "(rowids 2, 4, 5, 6, 7), e.g. 'abc', '12.5', ''"
        )
        assert outcome.lossy is not None
        assert outcome.lossy.lossy_count == 5
        assert outcome.lossy.first_rowids == (2, 4, 5, 6, 7)
        assert [c.name for c in outcome.verify.failures()] == ["lossy values"]
        assert snapshot(db) == before
        assert file_digest(db) == before_file
        assert not Path(f"{db}-journal").exists()


def test_lossy_values_can_become_null(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    outcome = apply_plan(db, plan_for(db, "orders", "qty"), on_lossy="null")
    assert outcome.applied, outcome.message
    assert outcome.message.endswith("(5 lossy value(s) set to NULL)")
    assert outcome.lossy is not None and outcome.lossy.lossy_count == 5
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT qty, note FROM orders ORDER BY id").fetchall()
    assert rows == [
        (1, "n0"),
        (None, "n1"),
        (3, "n2"),
        (None, "n3"),
        (None, "n4"),
        (None, "n5"),
        (None, "n6"),
        (42, "n7"),
        (None, "n8"),
    ]
    conn.close()


def test_lossy_values_can_be_kept(tmp_path: Path) -> None:
    # ' 7', '007' and '12.5' are numbers to an INTEGER column: it would store 7, 7 and 12.5, so
    # "keep" cannot keep them as they are and refuses, naming them.
    db = lossy_shop(tmp_path)
    before = snapshot(db)
    plan = plan_for(db, "orders", "qty", on_lossy="keep")
    outcome = apply_plan(db, plan, on_lossy="keep")
    assert not outcome.applied
    assert "3 of the 5 lossy value(s)" in outcome.message
    assert "'12.5' would become 12.5 (real)" in outcome.message
    assert "' 7' would become 7 (integer)" in outcome.message
    assert "'007' would become 7 (integer)" in outcome.message
    assert snapshot(db) == before


KEEP_VALUES = ["007", "1e3", " 5", "0x10", "abc", "12.0"]


def _keep_db(tmp_path: Path, values: list[str]) -> Path:
    db = tmp_path / "keep.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, other TEXT)")
    conn.executemany(
        "INSERT INTO t (v, other) VALUES (?, ?)", [(v, f"o{i}") for i, v in enumerate(values)]
    )
    conn.close()
    return db


def test_keep_refuses_the_values_sqlite_would_rewrite_and_names_them(tmp_path: Path) -> None:
    db = _keep_db(tmp_path, [*KEEP_VALUES, "42"])
    before, before_file = snapshot(db), file_digest(db)
    outcome = apply_plan(db, plan_for(db, "t", "v", on_lossy="keep"), on_lossy="keep")
    assert not outcome.applied
    message = outcome.message
    assert message.startswith("refused: on_lossy='keep' cannot keep 4 of the 6 lossy value(s)")
    for shown in (
        "id 1: '007' would become 7 (integer)",
        "id 2: '1e3' would become 1000 (integer)",
        "id 3: ' 5' would become 5 (integer)",
        "id 6: '12.0' would become 12 (integer)",
    ):
        assert shown in message
    assert "'abc'" not in message and "'0x10'" not in message
    assert "nothing was changed" in message
    assert [c.name for c in outcome.verify.failures()] == ["lossy values kept"]
    assert snapshot(db) == before and file_digest(db) == before_file


def test_keep_keeps_every_other_lossy_value_byte_for_byte(tmp_path: Path) -> None:
    values = ["0x10", "abc", "", "x\x00y", "42", "-7", "ünï"]
    db = _keep_db(tmp_path, values)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO t (v, other) VALUES (x'00ff', 'blob')")
    conn.commit()
    stored = conn.execute("SELECT id, typeof(v), hex(v) FROM t ORDER BY id").fetchall()
    conn.close()
    outcome = apply_plan(db, plan_for(db, "t", "v", on_lossy="keep"), on_lossy="keep")
    assert outcome.applied, outcome.message
    assert outcome.message.endswith("(6 lossy value(s) kept byte for byte)")
    conn = sqlite3.connect(db)
    after = conn.execute("SELECT id, typeof(v), hex(v) FROM t ORDER BY id").fetchall()
    declared = conn.execute("SELECT type FROM pragma_table_info('t') WHERE name = 'v'").fetchone()
    conn.close()
    assert declared == ("INTEGER",)
    lossless = {5, 6}  # '42' and '-7' become the integers 42 and -7
    assert [r for r in after if r[0] not in lossless] == [r for r in stored if r[0] not in lossless]
    assert [r[1] for r in after if r[0] in lossless] == ["integer", "integer"]


def test_a_plan_made_to_null_is_still_refused_without_consent(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    before = snapshot(db)
    outcome = apply_plan(db, plan_for(db, "orders", "qty", on_lossy="null"))
    assert not outcome.applied
    assert outcome.message.startswith("refused: 5 of 9")
    assert snapshot(db) == before


def test_lossy_values_that_a_not_null_column_rejects(shop: Path) -> None:
    conn = sqlite3.connect(shop)
    conn.execute("UPDATE sessions SET user_id = 'nobody' WHERE id = 3")
    conn.commit()
    conn.close()
    before = snapshot(shop)
    outcome = apply_plan(shop, plan_for(shop), on_lossy="null")
    assert not outcome.applied
    assert "NOT NULL constraint failed: new_sessions.user_id" in outcome.message
    assert f"1 of {ROWS} value(s) of sessions.user_id would not convert" in outcome.message
    assert snapshot(shop) == before


def test_lossy_values_lists_the_rows_and_the_refusal_says_how_to_go_on(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    conn = sqlite3.connect(db)
    try:
        found = lossy_values(SqliteTransaction(conn), plan_for(db, "orders", "qty"))
    finally:
        conn.close()
    assert (found.lossy_count, found.total_rows, found.first_rowids) == (5, 9, (2, 4, 5, 6, 7))
    assert lossy_refusal(found) == (
        "refused: 5 of 9 value(s) of orders.qty would not convert losslessly to INTEGER "
        "(rowids 2, 4, 5, 6, 7), e.g. 'abc', '12.5', ''; nothing was changed (on_lossy='null' "
        "stores NULL instead, on_lossy='keep' keeps them if SQLite does not convert them)"
    )


def test_lossy_values_of_a_missing_column_is_a_refusal(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    plan = plan_for(db, "orders", "qty")
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE orders RENAME COLUMN qty TO amount")
    try:
        with pytest.raises(Refused) as refused:
            lossy_values(SqliteTransaction(conn), plan)
    finally:
        conn.close()
    assert refused.value.message.startswith("cannot change the type: ")
    assert refused.value.check.name == "lossy values" and not refused.value.check.ok


def test_lossy_policy_makes_the_plan_again_for_the_treatment_asked_for(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    plan = plan_for(db, "orders", "qty")
    conn = sqlite3.connect(db)
    try:
        same, refusing = lossy_policy(SqliteTransaction(conn), plan, "refuse")
        to_null, nulls = lossy_policy(SqliteTransaction(conn), plan, "null")
        dry, dry_policy = lossy_policy(SqliteTransaction(conn), plan, None)
    finally:
        conn.close()
    assert same == plan and refusing == LossyPolicy(True, "refuse", False)
    assert lossy_mode(to_null) == "null" and nulls == LossyPolicy(True, "null", False)
    # A dry run follows the plan's own copy: a refusing plan goes on keeping what SQLite keeps.
    assert dry == plan and dry_policy == LossyPolicy(True, "keep", False)


def test_lossy_note_says_what_became_of_the_values(tmp_path: Path) -> None:
    db = lossy_shop(tmp_path)
    conn = sqlite3.connect(db)
    try:
        found = lossy_values(SqliteTransaction(conn), plan_for(db, "orders", "qty"))
        none = lossy_values(SqliteTransaction(conn), plan_for(db, "orders", "id"))
    finally:
        conn.close()
    check, note = lossy_note(LossyPolicy(True, "null", False), found)
    assert check.ok and check.detail == "5 of 9 value(s) would not convert losslessly"
    assert note == "5 lossy value(s) set to NULL"
    assert lossy_note(LossyPolicy(True, "keep", True), found)[1] == (
        "5 lossy value(s) kept byte for byte"
    )
    assert lossy_note(LossyPolicy(True, "keep", False), found)[1] == (
        "5 lossy value(s) kept as SQLite converted them"
    )
    assert lossy_note(LossyPolicy(True, "null", False), none)[1] == ""


def test_kept_exactly_passes_a_copy_that_kept_every_value(tmp_path: Path) -> None:
    db = _keep_db(tmp_path, ["abc", "0x10", "42"])
    plan = plan_for(db, "t", "v", on_lossy="keep")
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for step in plan.steps:
            if step.kind == "sql":
                conn.execute(step.sql)
            else:
                check = kept_exactly(SqliteTransaction(conn), plan)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert check.ok and check.detail == "all 2 lossy value(s) kept byte for byte"

"""Tests of the SQLite judge: a verdict on a statement, its query plan, DDL run and undone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbheal_lsp.analysis.oracle import Verdict
from dbheal_lsp.analysis.placeholders import find_placeholders
from dbheal_lsp.databases.database import Ran
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.judge import (
    SqliteJudge,
    open_judge,
    plan_with_index,
    prepare,
    query_plan,
    undone,
)
from dbheal_lsp.databases.sqlite.sandbox import Budget, Sandbox, open_sandbox


@pytest.fixture
def oracle() -> Iterator[Sandbox]:
    box = open_sandbox()
    box.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
    box.run("CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER)")
    yield box
    box.close()


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("SELECT id FROM users WHERE name = ?", Verdict("ok")),
        ("  ", Verdict("ok")),
        ("SELECT id FROM userz", Verdict("no_table", "no such table: userz", "userz")),
        ("SELECT u.nmae FROM users u", Verdict("no_column", "no such column: u.nmae", "nmae", "u")),
        (
            "INSERT INTO users (nmae) VALUES (1)",
            Verdict("no_column", "table users has no column named nmae", "nmae", "users"),
        ),
        ("SELEC id FROM users", Verdict("syntax", 'near "SELEC": syntax error', "SELEC")),
        (
            "SELECT id FROM users JOIN orders ON user_id = users.id",
            Verdict("error", "ambiguous column name: id", "id", None),
        ),
        ("SELECT my_function(id) FROM users", Verdict("ok", "no such function: my_function")),
        (
            "SELECT id FROM other.things",
            Verdict("ok", "not judged: no such table: other.things (an attached database)"),
        ),
    ],
)
def test_prepare_reads_sqlites_error_as_a_verdict(
    oracle: Sandbox, text: str, verdict: Verdict
) -> None:
    assert prepare(oracle, text) == verdict


def test_ddl_the_schema_already_has_is_applied_not_an_error(oracle: Sandbox) -> None:
    assert prepare(oracle, "CREATE TABLE users (id)").kind == "applied"
    assert prepare(oracle, "ALTER TABLE users ADD COLUMN email TEXT") == Verdict(
        "applied", "duplicate column name: email", "email"
    )
    assert prepare(oracle, "DROP TABLE gone").kind == "applied"
    # A column named twice is broken on every run.
    assert prepare(oracle, "CREATE TABLE t (a, a)") == Verdict(
        "error", "column a is defined twice", "a"
    )


def test_what_the_sandbox_refuses_is_not_judged(oracle: Sandbox) -> None:
    verdict = prepare(oracle, "ATTACH DATABASE 'x.db' AS x")
    assert verdict.kind == "ok" and verdict.message.startswith("not judged")


def test_query_plan_and_the_plan_with_one_more_index(oracle: Sandbox) -> None:
    text = "SELECT name FROM users WHERE email = ?"
    placeholders = find_placeholders(text)
    assert query_plan(oracle, text, placeholders) == ["SCAN users"]
    with_index = plan_with_index(oracle, text, placeholders, "users", ("email",), "users_email")
    assert with_index == ("SEARCH users USING INDEX users_email (email=?)",)
    # The index was made in a savepoint and undone.
    assert query_plan(oracle, text, placeholders) == ["SCAN users"]
    assert plan_with_index(oracle, text, placeholders, "nope", ("x",), "i") == ()
    assert query_plan(oracle, "SELECT nothing FROM nowhere", ()) == []


def test_undone_rolls_the_blocks_changes_back(oracle: Sandbox) -> None:
    with undone(oracle, "trial"):
        oracle.run("CREATE TABLE scratch (a)")
        assert prepare(oracle, "SELECT a FROM scratch").kind == "ok"
    assert prepare(oracle, "SELECT a FROM scratch").kind == "no_table"


@pytest.fixture
def judge(tmp_path: Path) -> Iterator[SqliteJudge]:
    conn = sqlite3.connect(tmp_path / "shop.db")
    conn.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);")
    schema = schema_from_connection(conn, "database")
    conn.close()
    made = open_judge(schema)
    yield made
    made.close()


def test_a_judge_over_a_real_files_schema_answers_as_prepare_does(judge: SqliteJudge) -> None:
    assert judge.verdict("SELECT email FROM users") == Verdict("ok")
    assert judge.verdict("SELECT nmae FROM users").kind == "no_column"
    text = "SELECT id FROM users WHERE email = ?"
    placeholders = find_placeholders(text)
    assert judge.plan(text, placeholders) == ["SCAN users"]
    with_index = judge.plan_with_index(text, placeholders, "users", ("email",), "users_email")
    assert any("users_email" in line for line in with_index)


def test_ddl_run_in_an_undone_block_is_seen_then_gone(judge: SqliteJudge) -> None:
    with judge.undone("trial"):
        assert judge.in_transaction
        assert judge.run("CREATE TABLE scratch (a INT)") == Ran("ran")
        assert judge.verdict("SELECT a FROM scratch").kind == "ok"
        table = judge.schema("database").table("scratch")
        assert table is not None and table.column_names == ("a",)
        assert judge.run("CREATE TABLE scratch (a INT)").kind == "failed"
        assert judge.run("ATTACH DATABASE 'x.db' AS x").kind == "refused"
    assert judge.verdict("SELECT a FROM scratch").kind == "no_table"
    assert judge.has_objects()


def test_a_runaway_statement_is_over_budget() -> None:
    box = open_sandbox(Budget(deadline=0.05))
    slow = SqliteJudge(box)
    try:
        ran = slow.run(
            "CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
            " SELECT i FROM n"
        )
    finally:
        slow.close()
    assert ran.kind == "over_budget" and ran.message.startswith("stopped")


def test_an_empty_copy_has_no_objects() -> None:
    box = open_sandbox()
    empty = SqliteJudge(box)
    try:
        assert not empty.has_objects()
    finally:
        empty.close()

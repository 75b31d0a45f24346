"""Tests of SQLite's verdict on one statement and its query plan (analysis/oracle.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest

from dbheal_lsp.analysis.checker import CheckSettings
from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.oracle import (
    Facts,
    Verdict,
    parse,
    plan_with_index,
    prepare,
    query_plan,
    split_script,
    stand_in_index,
    undone,
)
from dbheal_lsp.analysis.placeholders import find_placeholders
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.statement import render
from dbheal_lsp.databases.sqlite.sandbox import Sandbox, open_sandbox
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.model import IssueType


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


def test_stand_in_index() -> None:
    assert stand_in_index("__dbheal_12") == 12
    assert stand_in_index("t___dbheal_3") == 3
    assert stand_in_index("users") is None
    assert stand_in_index(None) is None


def test_parse_in_a_dialect_or_none() -> None:
    assert type(parse("SELECT a FROM t")).__name__ == "Select"
    assert parse("SELECT id::text FROM t", "postgres") is not None
    assert parse("SELECT (((") is None


def test_split_script_keeps_trigger_bodies_and_the_map_to_the_file() -> None:
    source = (
        "db.executescript('''CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;\n"
        "-- a comment; not a statement\n"
        "INSERT INTO a VALUES (1);\n"
        ";  -- nothing\n''')\n"
    )
    (statement,) = Extractor().extract(source, ast.parse(source))
    parts = split_script(render(statement))
    assert [p.text.strip() for p in parts] == [
        "CREATE TABLE a (x);",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;",
        "-- a comment; not a statement\nINSERT INTO a VALUES (1);",
    ]
    insert = parts[-1]
    at = insert.text.index("INSERT")
    assert insert.span(at, at + 6).line == 4


def facts_of(source: str, path: str = "a.py") -> Facts:
    (statement,) = Extractor().extract(source, ast.parse(source))
    rendered = render(statement)
    return Facts(
        statement=statement,
        path=path,
        rendered=rendered,
        verdict=Verdict("ok"),
        refs=None,
        placeholders=find_placeholders(rendered.text),
        schema=Schema.empty(),
        expected=None,
        drift=Drift(),
        has_schema=False,
        settings=CheckSettings(),
    )


def test_a_fingerprint_survives_edits_elsewhere_but_not_a_change_of_statement() -> None:
    body = 'def f(name):\n    db.execute("SELECT emial FROM users")\n'
    before = facts_of(body)
    after = facts_of("import os\n\n\n" + body.replace("SELECT emial", "SELECT  emial"))
    kind = IssueType.MISSING_COLUMN
    assert before.sql == "SELECT emial FROM users"
    assert len(before.fingerprint(kind, "emial", "users", "emial")) == 16
    # Moved down and respaced: the same finding.
    assert before.fingerprint(kind, "emial", "users", "emial") == after.fingerprint(
        kind, "emial", "users", "emial"
    )
    # Another token, type, file or statement: another finding.
    assert before.fingerprint(kind, "emial", "users", "emial") != before.fingerprint(
        kind, "users", "users", None
    )
    assert before.fingerprint(kind, "emial", "users", "emial") != before.fingerprint(
        IssueType.MISSING_TABLE, "emial", "users", "emial"
    )
    assert before.fingerprint(kind, "emial", "users", "emial") != facts_of(
        body, "b.py"
    ).fingerprint(kind, "emial", "users", "emial")
    other = facts_of(body.replace("users", "people"))
    assert before.fingerprint(kind, "emial", "users", "emial") != other.fingerprint(
        kind, "emial", "users", "emial"
    )

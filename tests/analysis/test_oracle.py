"""Tests of the neutral half of the oracle (analysis/oracle.py): stand-ins, scripts, Facts."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.checker import CheckSettings
from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.oracle import Facts, Verdict, parse, split_script, stand_in_index
from dbheal_lsp.analysis.placeholders import find_placeholders
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.analysis.statement import render
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.model import IssueType


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

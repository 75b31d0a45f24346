"""Tests of reading the head of DDL statements (analysis/ddl.py)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.ddl import Alter, column_offsets, created_name, parse_alter, statement_head


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("CREATE TABLE users (id INTEGER)", "users"),
        ("create temp table if not exists Cache (k)", "Cache"),
        ('CREATE VIEW main."Recent" AS SELECT 1', "Recent"),
        ("CREATE VIRTUAL TABLE docs USING fts5(body)", "docs"),
        ("CREATE INDEX idx ON users (id)", None),
        ("DROP TABLE users", None),
    ],
)
def test_created_name_is_the_table_or_view_a_create_makes(sql: str, name: str | None) -> None:
    assert created_name(statement_head(sql))[0] == name


def test_statement_head_skips_comments_and_stops_early() -> None:
    head = statement_head("-- made by hand\n/* v2 */ ALTER TABLE t ADD " + "c, " * 40)
    assert [t.text for t in head[:3]] == ["ALTER", "TABLE", "t"]
    assert len(head) == 16


def test_column_offsets_point_at_each_column_definition() -> None:
    sql = (
        "CREATE TABLE IF NOT EXISTS t (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  Name TEXT DEFAULT (lower('x,y')),\n"
        "  total REAL CHECK (total > 0),\n"
        "  UNIQUE (name, total),\n"
        "  CONSTRAINT fk FOREIGN KEY (id) REFERENCES o (id)\n"
        ")"
    )
    offsets = column_offsets(sql)
    # Table constraints are not columns; names are lower-cased; a comma inside parentheses
    # or a string does not start a column.
    assert set(offsets) == {"id", "name", "total"}
    for column, offset in offsets.items():
        assert sql[offset:].lower().startswith(column), column
    assert sql[offsets["name"] : offsets["name"] + 4] == "Name"


def test_column_offsets_of_something_else_are_empty() -> None:
    assert column_offsets("CREATE VIEW v AS SELECT a, b FROM t") == {}
    assert column_offsets("INSERT INTO t (a, b) VALUES (1, 2)") == {}


@pytest.mark.parametrize(
    ("sql", "alter"),
    [
        ("ALTER TABLE users RENAME TO people", Alter("rename_table", "users", "users", "people")),
        (
            "alter table main.users rename column mail to email",
            Alter("rename_column", "users", "mail", "email"),
        ),
        (
            "ALTER TABLE users RENAME mail TO email",
            Alter("rename_column", "users", "mail", "email"),
        ),
        ("ALTER TABLE users ADD COLUMN age INTEGER", Alter("add_column", "users", None, "age")),
        ("ALTER TABLE users ADD age INTEGER", Alter("add_column", "users", None, "age")),
        ('ALTER TABLE "users" DROP COLUMN "age"', Alter("drop_column", "users", "age", None)),
        ("ALTER TABLE users SOMETHING", Alter("other", "users")),
    ],
)
def test_parse_alter_reads_what_the_statement_does(sql: str, alter: Alter) -> None:
    assert parse_alter(sql) == alter


def test_parse_alter_of_another_statement_is_none() -> None:
    assert parse_alter("CREATE TABLE users (id)") is None
    assert parse_alter("ALTER INDEX i RENAME TO j") is None

"""Tests of the drift between a live database and its migrations (analysis/drift.py)."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.drift import (
    MissingObject,
    compute_drift,
    drift_issues,
    trigger_origins,
)
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.sqlite.replay import replay_migrations
from dbheal_lsp.model import IssueType, Origin, Span
from tests.analysis.test_schema import schema_of

MIGRATION = """\
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email VARCHAR (80),
  age INTEGER
);
CREATE INDEX users_email ON users (email);
CREATE TABLE orders (id INTEGER PRIMARY KEY);
CREATE TRIGGER stamp AFTER INSERT ON users BEGIN SELECT 1; END;
"""


def expected(tmp_path: Path) -> Schema:
    (tmp_path / "001_init.sql").write_text(MIGRATION)
    return replay_migrations(tmp_path).schema


def test_a_database_made_by_the_migrations_has_no_drift(tmp_path: Path) -> None:
    # Spacing and case of a declared type are not a difference.
    same = schema_of(MIGRATION.replace("VARCHAR (80)", "varchar(80)"))
    assert compute_drift(same, expected(tmp_path)).is_empty


def test_missing_table_column_index_and_trigger_are_reported(tmp_path: Path) -> None:
    database = schema_of("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80));")
    origin = Origin(str(tmp_path / "001_init.sql"), 8)
    drift = compute_drift(database, expected(tmp_path), {"stamp": origin})
    assert [(m.kind, m.table, m.name) for m in drift.missing] == [
        ("column", "users", "age"),
        ("table", "orders", "orders"),
        ("index", "users", "users_email"),
        ("trigger", "users", "stamp"),
    ]
    assert drift.missing[-1] == MissingObject("trigger", "users", "stamp", origin)
    assert not drift.types


def test_a_column_whose_type_differs_is_reported(tmp_path: Path) -> None:
    database = schema_of(MIGRATION.replace("age INTEGER", "age TEXT"))
    drift = compute_drift(database, expected(tmp_path))
    assert not drift.missing
    (diff,) = drift.types.values()
    assert (diff.table, diff.column, diff.db_type, diff.expected_type) == (
        "users",
        "age",
        "TEXT",
        "INTEGER",
    )


def test_drift_issues_point_at_the_defining_name_in_the_migration(tmp_path: Path) -> None:
    path = str(tmp_path / "001_init.sql")
    database = schema_of(
        MIGRATION.replace("age INTEGER", "age TEXT").replace(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY);", ""
        )
    )
    drift = compute_drift(database, expected(tmp_path))
    lines = MIGRATION.splitlines(keepends=True)
    issues = drift_issues(drift, {path: lines})
    by_table = {i.table: i for i in issues}
    assert all(i.type is IssueType.SCHEMA_DRIFT and i.path == path for i in issues)
    orders = by_table["orders"]
    assert orders.span == Span(7, 14, 7, 20)  # "orders" of CREATE TABLE orders
    assert "has no table orders" in orders.message
    age = by_table["users"]
    assert age.span == Span(4, 3, 4, 6)  # "age" of its column definition
    assert (age.column_name, age.db_type) == ("age", "TEXT")
    assert "users.age is INTEGER here but TEXT in the database" in age.message


def test_trigger_origins_by_lower_case_name() -> None:
    first, second = Origin("m/1.sql", 3), Origin("m/2.sql", 1)
    found = trigger_origins(
        [
            ('CREATE TRIGGER IF NOT EXISTS "Stamp" AFTER INSERT ON t BEGIN SELECT 1; END', first),
            ("  create temp trigger other BEFORE DELETE ON t BEGIN SELECT 1; END", second),
            ("CREATE TABLE t (a)", Origin("m/1.sql", 1)),
        ]
    )
    assert found == {"stamp": first, "other": second}

"""Tests of the tables and columns a statement names and how a column resolves
(analysis/columnrefs.py)."""

from __future__ import annotations

from tests.analysis.test_sqlrefs import JOIN, refs


def test_a_join_with_aliases_resolves_columns_through_the_alias() -> None:
    columns = refs(JOIN).columns
    for column in columns:
        assert JOIN[column.start : column.end] == column.name
    totl = next(c for c in columns if c.name == "totl")
    assert (totl.qualifier, totl.status, totl.candidates) == (
        "o",
        "missing",
        ("id", "user_id", "total"),
    )
    assert totl.table is not None and totl.table.name == "orders"
    assert JOIN.index("totl") == totl.start
    user_id = next(c for c in columns if c.name == "user_id")
    assert (user_id.status, user_id.table and user_id.table.name) == ("ok", "orders")
    # A column of a missing table cannot be judged.
    ghost = next(c for c in columns if c.qualifier == "g")
    assert ghost.status == "unknown"


def test_rowid_and_a_select_alias_are_not_missing_columns() -> None:
    text = "SELECT rowid, name AS who FROM users ORDER BY who"
    columns = refs(text).columns
    assert [(c.name, c.status) for c in columns] == [("rowid", "ok"), ("name", "ok")]


def test_an_unqualified_column_no_table_has_lists_the_candidates() -> None:
    text = "SELECT nmae FROM users"
    (column,) = refs(text).columns
    assert (column.status, column.candidates) == ("missing", ("id", "name"))
    assert column.table is not None and column.table.name == "users"
    assert text[column.start : column.end] == "nmae"

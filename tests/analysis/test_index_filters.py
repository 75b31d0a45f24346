"""Tests of the filters an index could serve (analysis/index_filters.py)."""

from __future__ import annotations

from tests.analysis.test_sqlrefs import JOIN, refs


def test_the_and_ed_filters_of_where_and_on_name_their_planner_source() -> None:
    # The WHERE clause's first, then each join's ON; an unqualified column takes its alias.
    assert [(f.column.name, f.source) for f in refs(JOIN).filters] == [
        ("id", "u"),
        ("name", "u"),
        ("user_id", "o"),
        ("id", "u"),
        ("id", "u"),
    ]


def test_an_unqualified_column_takes_its_table_name_and_or_is_not_a_filter() -> None:
    found = refs("SELECT id FROM orders WHERE (user_id = ? AND total BETWEEN 1 AND 2) OR id = 3")
    assert found.filters == ()
    found = refs("SELECT id FROM orders WHERE (user_id = ? AND total BETWEEN 1 AND 2)")
    assert [(f.column.name, f.source) for f in found.filters] == [
        ("user_id", "orders"),
        ("total", "orders"),
    ]


def test_update_and_delete_filters_are_recorded_but_not_unknown_columns() -> None:
    found = refs("UPDATE users SET name = ? WHERE id IN (1, 2) AND nmae = 3")
    assert [(f.column.name, f.source) for f in found.filters] == [("id", "users")]

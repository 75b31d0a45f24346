"""Tests of the values a statement sets its columns against (analysis/comparisons.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.placeholders import Placeholder
from tests.analysis.test_sqlrefs import JOIN, refs


def test_placeholders_compared_with_columns_are_traced_back_to_the_text() -> None:
    found = refs(JOIN)
    compared = [
        (c.column.name, c.value.kind, c.value.placeholder, c.context) for c in found.comparisons
    ]
    first, second = JOIN.index("?"), JOIN.index(":nm")
    assert compared == [
        ("id", "placeholder", Placeholder(first, first + 1, 0, None), "compare"),
        ("name", "placeholder", Placeholder(second, second + 3, None, "nm"), "compare"),
    ]
    assert ("id", "u") in [(f.column.name, f.source) for f in found.filters]


def test_insert_and_update_values_meet_their_columns() -> None:
    text = "INSERT INTO users (id, name, nmae) VALUES (?, 'x', 1)"
    found = refs(text)
    assert [t.name for t in found.tables] == ["users"]
    assert [(c.name, c.status) for c in found.columns] == [
        ("id", "ok"),
        ("name", "ok"),
        ("nmae", "missing"),
    ]
    met = [
        (c.column.name, c.value.kind, c.value.literal_type, c.context) for c in found.comparisons
    ]
    assert met == [("id", "placeholder", None, "insert"), ("name", "literal", "TEXT", "insert")]
    found = refs("UPDATE users SET name = ? WHERE id = 3")
    met = [
        (c.column.name, c.value.kind, c.value.literal_type, c.context) for c in found.comparisons
    ]
    assert met == [("name", "placeholder", None, "set"), ("id", "literal", "INTEGER", "compare")]
    assert found.kind == "update"


def test_literals_through_parentheses_and_minus_signs_keep_their_type() -> None:
    text = "SELECT id FROM orders WHERE total = (-1.5) AND 'x' = user_id"
    met = [
        (c.column.name, c.value.literal_type, c.value.text, text[c.value.start : c.value.end])
        for c in refs(text).comparisons
    ]
    assert met == [("total", "REAL", "1.5", "1.5"), ("user_id", "TEXT", "x", "'x'")]

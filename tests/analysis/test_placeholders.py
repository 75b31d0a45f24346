"""Tests of the placeholders of a SQL text and the text sqlglot is given
(analysis/placeholders.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.placeholders import (
    Placeholder,
    find_placeholders,
    normalize_placeholders,
    sqlglot_text,
)


def test_placeholders_outside_strings_and_comments_in_every_spelling() -> None:
    text = "SELECT * FROM t WHERE x = 'it''s ?' -- ?\n AND y = %s AND z = %(nm)s AND w = $2"
    normal = normalize_placeholders(text)
    assert len(normal) == len(text)
    assert normal.endswith("AND y = ?  AND z = :nm    AND w = ?2")
    found = find_placeholders(normal)
    assert [(normal[p.start : p.end], p.position, p.name) for p in found] == [
        ("?", 0, None),
        (":nm", None, "nm"),
        ("?2", 1, None),
    ]
    assert find_placeholders("SELECT ?3, ?, @a, $b") == (
        Placeholder(7, 9, 2, None),
        Placeholder(11, 12, 3, None),
        Placeholder(14, 16, None, "a"),
        Placeholder(18, 20, None, "b"),
    )


def test_sqlglot_text_names_placeholders_and_maps_offsets_back() -> None:
    text = "SELECT a FROM t WHERE b = ? AND c = ?"
    st = sqlglot_text(text, find_placeholders(text))
    assert st.text == "SELECT a FROM t WHERE b = :__p0 AND c = :__p1"
    assert st.original(st.text.index("AND")) == text.index("AND")
    assert st.original(st.text.index(":__p1")) == text.rindex("?")
    assert st.by_name["__p1"].position == 1

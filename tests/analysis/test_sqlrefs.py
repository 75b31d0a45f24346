"""Tests of the tables, columns, values and placeholders a statement names (analysis/sqlrefs.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.oracle import parse
from dbheal_lsp.analysis.sqlrefs import (
    Placeholder,
    References,
    find_placeholders,
    masked,
    masked_values,
    normalize_placeholders,
    references,
    sqlglot_text,
    star_offsets,
)
from tests.analysis.test_schema import schema_of

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
"""


def refs(text: str) -> References:
    st = sqlglot_text(text, find_placeholders(text))
    return references(parse(st.text), st, schema_of(SCHEMA))


JOIN = (
    "SELECT u.name, o.totl FROM users AS u JOIN orders o ON o.user_id = u.id "
    "JOIN ghosts g ON g.id = u.id WHERE u.id = ? AND name = :nm"
)


def test_a_join_with_aliases_resolves_tables_at_their_offsets() -> None:
    found = refs(JOIN)
    assert [(t.name, JOIN[t.start : t.end], t.missing) for t in found.tables] == [
        ("users", "users", False),
        ("orders", "orders", False),
        ("ghosts", "ghosts", True),
    ]
    assert found.sources == {"u": "users", "o": "orders", "g": "ghosts"}
    assert found.kind == "select"


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


def test_masked_blanks_strings_names_and_comments_keeping_offsets() -> None:
    text = "SELECT \"a b\", 'it''s' FROM t -- note\nWHERE x = 1 /* c */"
    blank = masked(text)
    assert len(blank) == len(text)
    assert blank == "SELECT      ,         FROM t        \nWHERE x = 1        "
    kept = masked_values(text)
    assert "'it''s'" in kept and '"a b"' not in kept and "note" not in kept


def test_star_offsets_find_select_stars_not_count_star() -> None:
    text = "SELECT * , a.* , count(*) FROM t a"
    assert [text[s:e] for s, e in star_offsets(text)] == ["*", "a.*"]


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

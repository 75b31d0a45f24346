"""Tests of the walk of a statement's scopes and what it records (analysis/sqlrefs.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.oracle import parse
from dbheal_lsp.analysis.placeholders import find_placeholders, sqlglot_text
from dbheal_lsp.analysis.sqlrefs import References, references
from tests.analysis.test_schema import schema_of

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
"""


def refs(text: str) -> References:
    """Return the references of `text` against SCHEMA, as the checker computes them."""
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


def test_ctes_subqueries_and_attached_tables_are_walked_without_false_alarms() -> None:
    text = (
        "WITH recent AS (SELECT id FROM orders) "
        "SELECT r.id, r.total, x.a FROM recent r JOIN other.t x ON x.a = r.id "
        "WHERE r.id IN (SELECT user_id FROM orders WHERE totl > 1)"
    )
    found = refs(text)
    assert [(t.name, t.is_cte, t.attached, t.missing) for t in found.tables] == [
        ("orders", False, False, False),
        ("recent", True, False, False),
        ("t", False, True, False),
        ("orders", False, False, False),
    ]
    by_name = {(c.qualifier, c.name): c for c in found.columns}
    # A CTE's columns are the ones its body yields.
    assert by_name[("r", "id")].status == "ok"
    assert (by_name[("r", "total")].status, by_name[("r", "total")].candidates) == (
        "missing",
        ("id",),
    )
    # An attached database's columns are unknown here: never an alarm.
    assert by_name[("x", "a")].status == "unknown"
    # The subquery's own table resolves its columns; one it lacks might be the attached
    # table's, in the enclosing scope, so it is unknown rather than missing.
    assert by_name[(None, "user_id")].status == "ok"
    assert by_name[(None, "totl")].status == "unknown"


def test_select_stars_are_recorded_for_selects_and_not_for_updates() -> None:
    text = "SELECT *, u.* FROM users u"
    assert [text[s:e] for s, e in refs(text).stars] == ["*", "u.*"]
    assert refs("DELETE FROM users WHERE id = 1").stars == ()


def test_a_parenthesized_join_is_the_join_it_holds_not_a_subquery() -> None:
    text = (
        "SELECT users.* FROM (users LEFT JOIN orders ON users.id = orders.usr_id) "
        "WHERE orders.total > ? GROUP BY users.id"
    )
    found = refs(text)
    assert [(t.name, t.missing) for t in found.tables] == [("users", False), ("orders", False)]
    by_name = {(c.qualifier, c.name): c for c in found.columns}
    assert by_name[("orders", "usr_id")].status == "missing"
    assert by_name[("orders", "total")].status == "ok"
    # The join's ON is a filter an index could serve, as in an unparenthesized join.
    joined = refs(text.replace("usr_id", "user_id"))
    assert [(f.column.name, f.source) for f in joined.filters] == [
        ("total", "orders"),
        ("id", "users"),
        ("user_id", "orders"),
    ]

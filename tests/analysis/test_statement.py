"""Tests of rendering a statement's SQL with stand-ins for its slots (analysis/statement.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.statement import Statement, is_stand_in, render, slot_name, unknown_slots
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.model import Span


def statements(source: str) -> tuple[Statement, ...]:
    return Extractor().extract(source, ast.parse(source))


SOURCE = """\
def f(conn, name, table, n):
    conn.execute(f"SELECT id FROM {table} WHERE name = '{name}' AND n = {n}")
    conn.execute("SELECT * FROM t_%s WHERE id = %s" % (table, n))
    conn.execute("SELECT * FROM users WHERE id = ?", (int(n),))
"""


def test_a_slot_inside_an_sql_string_is_text_and_outside_a_parameter() -> None:
    first = statements(SOURCE)[0]
    rendered = render(first)
    assert rendered.text == (
        "SELECT id FROM __dbheal_0 WHERE name = '__dbheal_1' AND n = :__dbheal_2"
    )
    roles = [(s.role, s.slot.value.source, rendered.text[s.start : s.end]) for s in rendered.slots]
    assert roles == [
        ("identifier", "table", "__dbheal_0"),
        ("in_string", "name", "__dbheal_1"),
        ("value", "n", ":__dbheal_2"),
    ]
    assert first.literal_text == "SELECT id FROM  WHERE name = '' AND n = "
    assert [s.kind for s in first.slots] == ["fstring", "fstring", "fstring"]


def test_a_slot_glued_to_a_name_is_part_of_the_name() -> None:
    rendered = render(statements(SOURCE)[1])
    assert rendered.text == "SELECT * FROM t___dbheal_0 WHERE id = :__dbheal_1"
    assert [s.role for s in rendered.slots] == ["identifier", "value"]


def test_identifier_slots_are_forced_on_request() -> None:
    rendered = render(statements(SOURCE)[0], identifier_slots=frozenset({2}))
    assert rendered.text.endswith("AND n = __dbheal_2")
    assert rendered.slots[2].role == "identifier"


def test_rendered_offsets_map_back_to_the_python_file() -> None:
    first = statements(SOURCE)[0]
    rendered = render(first)
    # "SELECT" starts right after `f"` on line 2 (columns are 1-based).
    at = rendered.text.index("SELECT")
    assert rendered.span(at, at + 6) == Span(2, 20, 2, 26)
    # A stand-in points at the whole interpolated expression.
    table = rendered.slots[0]
    assert rendered.slot_at(table.start, table.end) == table
    assert rendered.span(table.start, table.end) == table.slot.value.span
    where = table.slot.value.span
    assert SOURCE.splitlines()[1][where.column - 1 : where.end_column - 1] == "table"
    assert rendered.slot_at(0, 6) is None


def test_unknown_slots_are_the_names_and_text_not_known() -> None:
    first, glued, plain = statements(SOURCE)
    assert [s.role for s in unknown_slots(first)] == ["identifier", "in_string"]
    assert [s.role for s in unknown_slots(glued)] == ["identifier"]
    assert unknown_slots(plain) == ()


def test_a_statement_without_slots_renders_as_written() -> None:
    plain = statements(SOURCE)[2]
    assert render(plain).text == "SELECT * FROM users WHERE id = ?"
    assert plain.slots == () and not plain.is_script
    assert plain.parameters is not None
    assert [(p.position, p.value.source, p.value.code_type) for p in plain.parameters] == [
        (0, "int(n)", "INTEGER")
    ]


def test_stand_in_names_are_recognised() -> None:
    assert slot_name(3) == "__dbheal_3"
    assert is_stand_in("t___dbheal_0") and is_stand_in(slot_name(0))
    assert not is_stand_in("users")

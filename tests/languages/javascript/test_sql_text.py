"""A SQL argument as text pieces and slots."""

from __future__ import annotations

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece, render
from dbheal_lsp.analysis.statement import Statement as _Statement
from dbheal_lsp.languages.javascript.parse import Parsers
from dbheal_lsp.languages.javascript.sql_text import SqlReader, numbered
from dbheal_lsp.languages.javascript.values import Helpers
from dbheal_lsp.model import Span


def _read(text: str) -> list[Piece] | None:
    """The pieces of the first argument of the last `q(...)` call of `text`."""
    source = Parsers().parse("a.js", text)
    stack, calls = [source.tree.root_node], []
    while stack:
        node = stack.pop()
        if node.type == "call_expression" and source.text_of(node).startswith("q("):
            calls.append(node)
        stack.extend(node.children)
    call = max(calls, key=lambda n: n.start_byte)
    return SqlReader(source, Helpers()).read(
        call.child_by_field_name("arguments").named_children[0]
    )


def _rendered(pieces: list[Piece]) -> str:
    span = Span(1, 1, 1, 2)
    statement = _Statement(numbered(pieces), "query", span, span, span, None, "")
    return render(statement).text


def test_a_template_slot_stands_where_it_is_interpolated() -> None:
    pieces = _read("q(`SELECT a FROM t WHERE id = ${id}`)\n")
    assert pieces is not None
    assert _rendered(pieces) == "SELECT a FROM t WHERE id = :__dbheal_0"
    slot = pieces[1]
    assert isinstance(slot, Slot) and slot.kind == "template" and slot.value.source == "id"


def test_concatenation_of_text_and_values() -> None:
    pieces = _read("q('SELECT a FROM t WHERE id = ' + id + ' LIMIT 1')\n")
    assert pieces is not None
    assert [type(p) for p in pieces] == [TextPiece, Slot, TextPiece]
    assert pieces[1].kind == "concat"  # type: ignore[union-attr]


def test_names_plus_equals_and_join() -> None:
    text = (
        "let s = 'SELECT a';\ns += ' FROM t';\nconst w = [s, 'WHERE', 'b = 1'].join(' ');\nq(w)\n"
    )
    pieces = _read(text)
    assert pieces is not None and _rendered(pieces) == "SELECT a FROM t WHERE b = 1"


def test_join_without_a_separator_joins_with_commas() -> None:
    pieces = _read("q(['SELECT a', 'b FROM t'].join())\n")
    assert pieces is not None and _rendered(pieces) == "SELECT a,b FROM t"


def test_a_constant_name_in_a_template_is_its_text() -> None:
    pieces = _read("const T = 'users';\nq(`SELECT a FROM ${T}`)\n")
    assert pieces is not None and _rendered(pieces) == "SELECT a FROM users"


def test_text_not_known_is_none() -> None:
    assert _read("function f(sql) { q(sql) }\n") is None
    assert _read("q(a + b)\n") is None
    assert _read("q(build())\n") is None
    assert _read("q([...xs].join(' '))\n") is None


def test_numbered_counts_slots_in_order() -> None:
    pieces = _read("q(`SELECT ${a}, ${b} FROM t`)\n")
    assert pieces is not None
    assert [s.index for s in numbered(pieces) if isinstance(s, Slot)] == [0, 1]


def test_a_long_concatenation_is_read_whole() -> None:
    parts = " +\n  ".join(f"'c{k}, '" for k in range(300))
    pieces = _read(f"q('SELECT ' + {parts} + 'id FROM t')\n")
    assert pieces is not None and len(pieces) == 1
    assert _rendered(pieces).endswith("c299, id FROM t")

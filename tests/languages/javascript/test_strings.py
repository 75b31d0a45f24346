"""String and template literals as pieces: escapes decoded, each character at its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dbheal_lsp.analysis.statement import Piece, TextPiece
from dbheal_lsp.languages.javascript.parse import JsSource, Parsers
from dbheal_lsp.languages.javascript.strings import decode_escape, literal_pieces, merged

if TYPE_CHECKING:
    from tree_sitter import Node


def first(source: JsSource, kind: str) -> Node:
    """The first node of type `kind` in the file, in the text's order."""
    stack = [source.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == kind:
            return node
        stack.extend(reversed(node.children))
    raise AssertionError(f"no {kind}")


def _pieces(text: str, kind: str = "string") -> tuple[JsSource, list[Piece] | None]:
    source = Parsers().parse("a.js", text)
    return source, literal_pieces(first(source, kind), source, lambda e: None)


def test_a_string_is_one_piece_mapped_to_its_characters() -> None:
    _, pieces = _pieces("q('SELECT a')\n")
    assert pieces is not None
    (piece,) = pieces
    assert isinstance(piece, TextPiece) and piece.text == "SELECT a"
    assert piece.positions[0] == (1, 4) and piece.positions[-1] == (1, 12)


def test_escapes_are_decoded_and_point_at_the_escape() -> None:
    _, pieces = _pieces('q("a\\u0062\\x63\\u{64}\\n\\\'e")\n')
    assert pieces is not None
    (piece,) = pieces
    assert isinstance(piece, TextPiece)
    assert piece.text == "abcd\n'e"
    assert piece.positions[1] == (1, 5)  # b: its \u0062 starts at column 5
    assert piece.positions[2] == (1, 11)  # c: its \x63


def test_a_template_over_lines_keeps_each_lines_columns() -> None:
    _, pieces = _pieces("q(`SELECT a\n  FROM t`)\n", "template_string")
    assert pieces is not None
    (piece,) = pieces
    assert isinstance(piece, TextPiece)
    assert piece.positions[piece.text.index("FROM")] == (2, 3)


def test_a_substitution_without_a_reader_is_not_literal_text() -> None:
    source = Parsers().parse("a.js", "q(`SELECT ${a}`)\n")
    assert literal_pieces(first(source, "template_string"), source) is None


def test_an_empty_string_is_an_empty_piece_where_it_stands() -> None:
    _, pieces = _pieces("q('')\n")
    assert pieces == [TextPiece("", ((1, 4),))]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("\\n", "\n"),
        ("\\t", "\t"),
        ("\\x41", "A"),
        ("\\u00e9", "é"),
        ("\\u{1F389}", "🎉"),
        ("\\'", "'"),
        ("\\\n", ""),
        ("\\q", "q"),
        ("\\xZZ", "xZZ"),
    ],
)
def test_decode_escape(raw: str, text: str) -> None:
    assert decode_escape(raw) == text


def test_merged_joins_runs_of_text() -> None:
    a = TextPiece("ab", ((1, 1), (1, 2), (1, 3)))
    b = TextPiece("c", ((2, 1), (2, 2)))
    assert merged([a, b]) == [TextPiece("abc", ((1, 1), (1, 2), (2, 1), (2, 2)))]

"""A SQL argument as text pieces and slots: a string, a template literal (each `${...}` a slot),
`+` concatenation (an operand that is not text a slot), a name declared in an enclosing block
(with what `+=` adds to it), and `[...].join(sep)`.

What cannot be read as text at all (a parameter, a call's result) gives None: the call's SQL is
not known, and it is not a statement dbheal can check.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.statement import Piece, Slot, SlotKind, TextPiece
from dbheal_lsp.languages.javascript.names import declared_parts
from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.languages.javascript.strings import LITERALS, literal_pieces, merged, text_piece
from dbheal_lsp.languages.javascript.values import Helpers, unwrapped, value_info

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["SqlReader", "numbered"]

_MAX_DEPTH = 20


class SqlReader:
    """Reads SQL arguments of one file."""

    def __init__(self, source: JsSource, helpers: Helpers) -> None:
        self.source = source
        self.helpers = helpers

    def read(self, node: Node, depth: int = 0) -> list[Piece] | None:
        """Return the pieces of expression `node`, or None when its text is not known."""
        if depth > _MAX_DEPTH:
            return None
        node = unwrapped(node)
        if node.type in LITERALS:
            return literal_pieces(node, self.source, lambda e: self._substitution(e, depth))
        if node.type == "binary_expression":
            return self._concatenation(node, depth)
        if node.type == "identifier":
            parts = declared_parts(node, self.source)
            if parts is None:
                return None
            pieces: list[Piece] = []
            for part in parts:
                found = self.read(part, depth + 1)
                if found is None:
                    return None
                pieces.extend(found)
            return merged(pieces)
        if node.type == "call_expression":
            return self._join(node, depth)
        return None

    def _substitution(self, node: Node, depth: int) -> list[Piece]:
        """A template's `${name}` whose name holds text written in the code is that text (a
        table name in a constant is checked); any other `${...}` is a slot."""
        if unwrapped(node).type == "identifier":
            read = self.read(node, depth + 1)
            if read is not None and all(isinstance(p, TextPiece) for p in read):
                return read
        return [self.slot(node, "template")]

    def slot(self, node: Node, kind: SlotKind) -> Slot:
        """Return a slot for the interpolated expression `node` (numbered later: `numbered`)."""
        return Slot(-1, kind, value_info(node, self.source, self.helpers))

    def _concatenation(self, node: Node, depth: int) -> list[Piece] | None:
        """`a + b + c`: the chain's operands read in order (a chain of any length, read
        without a level of recursion per `+`)."""
        operands = _operands(node, self.source)
        if operands is None:
            return None
        reads = [self.read(operand, depth + 1) for operand in operands]
        if all(read is None for read in reads):
            return None  # no text in it: a sum, or text not known
        pieces: list[Piece] = []
        for operand, read in zip(operands, reads, strict=True):
            pieces.extend(read if read is not None else [self.slot(operand, "concat")])
        return merged(pieces)

    def _join(self, node: Node, depth: int) -> list[Piece] | None:
        """`[a, b, c].join(sep)`: the elements with the separator between them."""
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or function.type != "member_expression":
            return None
        prop, array = (
            function.child_by_field_name("property"),
            function.child_by_field_name("object"),
        )
        if prop is None or array is None or self.source.text_of(prop) != "join":
            return None
        array = unwrapped(array)
        given = arguments.named_children
        if array.type != "array" or len(given) > 1:
            return None
        if given:
            separator = literal_pieces(unwrapped(given[0]), self.source)
            if separator is None:
                return None
        else:  # `.join()` joins with a comma, written nowhere: shown at `join`
            at = text_piece(self.source, prop)
            separator = [TextPiece(",", at.positions[:1] + at.positions[1:2])]
        pieces: list[Piece] = []
        for k, element in enumerate(array.named_children):
            if element.type == "spread_element":
                return None
            if k:
                pieces.extend(separator)
            read = self.read(element, depth + 1)
            pieces.extend(read if read is not None else [self.slot(element, "join")])
        return merged(pieces) if pieces else None


def _operands(node: Node, source: JsSource) -> list[Node] | None:
    """The operands of the left-leaning chain of `+` that `node` is, in order; None when
    `node` is another operator."""
    rights: list[Node] = []
    while node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator is None or left is None or right is None:
            return None
        if source.text_of(operator) != "+":
            return None if not rights else [node, *reversed(rights)]
        rights.append(right)
        node = unwrapped(left)
    return [node, *reversed(rights)]


def numbered(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Return `pieces` with their slots numbered 0, 1, ... in order."""
    out: list[Piece] = []
    count = 0
    for piece in pieces:
        if isinstance(piece, Slot):
            piece = replace(piece, index=count)
            count += 1
        out.append(piece)
    return tuple(out)

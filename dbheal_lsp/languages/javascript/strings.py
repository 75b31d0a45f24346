"""String and template literals as text pieces: each decoded character mapped to where it is
written, escapes decoded as JavaScript decodes them, and each `${...}` of a template handed to
the caller, which makes it a slot (or, for a tag that binds its values, a placeholder)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.statement import Piece, TextPiece
from dbheal_lsp.languages.javascript.parse import JsSource

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["LITERALS", "decode_escape", "literal_pieces", "merged", "text_piece"]

#: The node types of literals read here.
LITERALS = frozenset({"string", "template_string"})

_SIMPLE_ESCAPES = MappingProxyType(
    {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
)
_LINE_BREAKS = "\r\n\u2028\u2029"

Substitution = Callable[["Node"], "list[Piece] | None"]


def literal_pieces(
    node: Node, source: JsSource, substitution: Substitution | None = None
) -> list[Piece] | None:
    """Return the pieces of the string or template literal `node`; a template's `${...}` gives
    `substitution(expression)`'s pieces (None without one, or when it gives None)."""
    if node.type not in LITERALS:
        return None
    pieces: list[Piece] = []
    inner = node.children[1:-1]  # between the quotes or backticks
    for child in inner:
        if child.type == "template_substitution":
            if substitution is None or child.named_child_count != 1:
                return None
            found = substitution(child.named_children[0])
            if found is None:
                return None
            pieces.extend(found)
        elif child.type == "escape_sequence":
            raw = source.text_of(child)
            here = source.offsets.position(child.start_byte)
            end = source.offsets.position(child.end_byte)
            decoded = decode_escape(raw)
            pieces.append(TextPiece(decoded, (here,) * len(decoded) + (end,)))
        else:  # string_fragment, or text the grammar names otherwise: taken as written
            pieces.append(text_piece(source, child))
    if not inner:  # "" or ``: nothing written, but where it stands
        end = source.offsets.position(node.end_byte - 1)
        pieces.append(TextPiece("", (end,)))
    return merged(pieces)


def text_piece(source: JsSource, node: Node) -> TextPiece:
    """Return the text of `node` as written, each character at its own position."""
    text = source.text_of(node)
    line, column = source.offsets.position(node.start_byte)
    positions: list[tuple[int, int]] = []
    for k, ch in enumerate(text):
        positions.append((line, column))
        # A line ends at \n, at a lone \r, and at the \n of \r\n (as LineIndex splits them).
        if ch == "\n" or (ch == "\r" and text[k + 1 : k + 2] != "\n"):
            line, column = line + 1, 1
        else:
            column += 1
    positions.append((line, column))
    return TextPiece(text, tuple(positions))


def decode_escape(raw: str) -> str:
    """Return what the escape sequence `raw` (backslash included) stands for."""
    body = raw[1:]
    if not body or body[0] in _LINE_BREAKS:
        return ""  # a line continuation
    try:
        if body.startswith("u{"):
            return chr(int(body[2:-1], 16))
        if body[0] in "xu" and len(body) > 1:
            return chr(int(body[1:], 16))
    except ValueError:
        return body
    return _SIMPLE_ESCAPES.get(body, body)


def merged(pieces: Sequence[Piece]) -> list[Piece]:
    """Return `pieces` with each run of text pieces made one (empty ones dropped inside)."""
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, TextPiece) and isinstance(last, TextPiece):
            out[-1] = TextPiece(last.text + piece.text, last.positions[:-1] + piece.positions)
        else:
            out.append(piece)
    return out

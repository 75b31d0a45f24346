"""Binding values concatenated into SQL with `+`: ``"... name = '" + name + "'"`` becomes
``"... name = ?"`` and `name` is passed with the call's values (`binding.value_edits`).

Each bound operand must stand between two string literals of the same quote (or be the last
operand, after one): the two literals are joined around the placeholder, so the rest of the
chain, its line breaks and its comments stay as written. A value quoted in the SQL
(`'" + x + "'`) loses its quotes; one quoted with more text around it (`'%" + x + "%'`) binds
that text joined in JavaScript (`"%" + x + "%"`), as it was before. One in a literal whose
quote is the SQL's own (`'...\\''`), or not where SQL takes a value, gives no binding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.sqlmask import masked
from dbheal_lsp.analysis.value_context import value_context
from dbheal_lsp.languages.javascript.binding import value_edits
from dbheal_lsp.languages.javascript.edits import ByteEdit
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.template_sql import enclosing_quote, numbered_style
from dbheal_lsp.languages.javascript.values import unwrapped

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["bind_concatenation", "operands"]

_LITERALS = frozenset({"string", "template_string"})
_NUMBERED = re.compile(r"\$(\d+)")


def operands(node: Node, target: Target) -> list[Node] | None:
    """The operands of the `+` chain `node`, in order (None when it is not one)."""
    node = unwrapped(node)
    rights: list[Node] = []
    while node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator is None or left is None or right is None:
            return None
        if target.source.text_of(operator) != "+":
            return None
        rights.append(right)
        node = unwrapped(left)
    return [node, *reversed(rights)] if rights else None


@dataclass(frozen=True)
class _Part:
    node: Node
    literal: bool
    start: int  # where its text is in the chain's SQL
    end: int


def _parts(chain: list[Node], target: Target) -> tuple[list[_Part], str] | None:
    """The operands with where each stands in the SQL text (a value blanked)."""
    parts: list[_Part] = []
    text = ""
    for node in chain:
        inner = unwrapped(node)
        literal = inner.type in _LITERALS
        if inner.type == "template_string" and any(
            c.type == "template_substitution" for c in inner.children
        ):
            return None  # a template with `${...}` among the operands: not bound here
        written = target.source.text_of(inner)[1:-1] if literal else None
        piece = written if written is not None else "0" * len(target.source.text_of(node))
        parts.append(_Part(node, literal, len(text), len(text) + len(piece)))
        text += piece
    return parts, text


def bind_concatenation(target: Target, bound: Sequence[tuple[Node, str]]) -> list[ByteEdit] | None:
    """The edits that bind each (operand, expression bound) of the call's `+` chain, or
    None when one of them cannot be bound."""
    call = target.call
    chain = operands(call.sql, target)
    if chain is None or call.values is None or call.name == "exec" or not bound:
        return None
    found = _parts(chain, target)
    if found is None:
        return None
    parts, text = found
    hidden = masked(text)
    numbered = numbered_style(target.source, hidden)
    if numbered is None:
        return None
    existing = (
        max((int(n) for n in _NUMBERED.findall(hidden)), default=0)
        if numbered
        else hidden.count("?")
    )
    if existing != len(call.values):
        return None
    edits: list[ByteEdit] = []
    inserts: list[tuple[int, str]] = []
    index_of = {p.node.id: k for k, p in enumerate(parts)}
    for k, (node, value) in enumerate(sorted(bound, key=lambda b: b[0].start_byte)):
        at = index_of.get(node.id)
        if at is None:
            return None
        made = _edit(parts, at, text, target, value)
        if made is None:
            return None
        edit, value = made
        mark = f"${existing + k + 1}" if numbered else "?"
        edits.append(ByteEdit(edit.start, edit.end, edit.text.replace("\0", mark)))
        inserts.append((existing if numbered else hidden.count("?", 0, parts[at].start), value))
    added = value_edits(target, inserts)
    return None if added is None else edits + added


def _edit(
    parts: list[_Part], at: int, text: str, target: Target, value: str
) -> tuple[ByteEdit, str] | None:
    """The edit that puts a placeholder (`\\0`, for now) where operand `at` is, and the
    expression then bound."""
    part = parts[at]
    left = parts[at - 1] if at > 0 else None
    right = parts[at + 1] if at + 1 < len(parts) else None
    if part.literal or left is None or not left.literal:
        return None
    source = target.source
    close = unwrapped(left.node).end_byte - 1  # the left literal's closing quote
    mark = source.data[close : close + 1]
    if right is not None and (not right.literal or _quote(right, target) != mark):
        return None
    quote = enclosing_quote(text, part.start)
    if quote is not None:
        char, open_at, close_at = quote
        if char != "'" or mark == b"'" or right is None:
            return None
        if not (left.start <= open_at and close_at < right.end):
            return None  # the quoted string goes on past the literals around the value
        # `'%" + x + "%'`: one value, the text around it joined to it in JavaScript.
        head, tail = text[open_at + 1 : part.start], text[part.end : close_at]
        quoted = mark.decode()
        pieces = [f"{quoted}{head}{quoted}"] if head else []
        pieces += [value] + ([f"{quoted}{tail}{quoted}"] if tail else [])
        begin = _byte_in(left, open_at, text, target)
        end = _byte_in(right, close_at, text, target) + 1
        return ByteEdit(begin, end, "\0"), " + ".join(pieces)
    if not value_context(text, part.start, part.end):
        return None
    if right is None:
        return ByteEdit(close, part.node.end_byte, "\0" + mark.decode()), value
    return ByteEdit(close, unwrapped(right.node).start_byte + 1, "\0"), value


def _byte_in(part: _Part, at: int, text: str, target: Target) -> int:
    """The file byte of offset `at` of the SQL text, inside the literal `part`."""
    inside = unwrapped(part.node).start_byte + 1
    return inside + len(text[part.start : at].encode("utf-8", "surrogatepass"))


def _quote(part: _Part, target: Target) -> bytes:
    start = unwrapped(part.node).start_byte
    return target.source.data[start : start + 1]

"""What a JS/TS code fix works on, found in the file's tree: the call that sends the issue's
statement (at `Issue.call_span`), and the node at an issue's span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbheal_lsp.languages.javascript.calls import SqlCall, sql_call
from dbheal_lsp.languages.javascript.parse import JsSource
from dbheal_lsp.model import Issue, Span

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["Target", "byte_range", "node_at"]


def byte_range(source: JsSource, span: Span) -> tuple[int, int] | None:
    """Return the UTF-8 byte offsets of the engine span `span` in `source` (None when the span
    is not in the text: an issue of another version of the file)."""
    try:
        start = source.offsets.index.offset(span.line, span.column)
        end = source.offsets.index.offset(span.end_line, span.end_column)
    except ValueError:
        return None
    text = source.text

    def at(char: int) -> int:
        return len(text[:char].encode("utf-8", "surrogatepass"))

    return at(start), at(end)


def node_at(
    source: JsSource, start: int, end: int, types: frozenset[str] | None = None
) -> Node | None:
    """Return the outermost node that spans exactly bytes `start` to `end` (of one of `types`,
    when given), or None."""
    node = source.tree.root_node.descendant_for_byte_range(start, end)
    found = None
    while node is not None and node.start_byte == start and node.end_byte == end:
        if types is None or node.type in types:
            found = node
        node = node.parent
    return found


@dataclass(frozen=True, eq=False)
class Target:
    """The call an issue's statement is sent by, in the parsed file."""

    source: JsSource
    call: SqlCall

    @classmethod
    def find(cls, source: JsSource, issue: Issue, calls: frozenset[str]) -> Target | None:
        """The call at `issue.call_span`, when it is a call that sends SQL (a binding tag's
        too: its values are bound already, a fix only drops a cast or renames)."""
        if issue.call_span is None:
            return None
        where = byte_range(source, issue.call_span)
        if where is None:
            return None
        node = node_at(source, *where, frozenset({"call_expression"}))
        if node is None:
            return None
        call = sql_call(node, source, calls)
        if call is None:
            return None
        return cls(source, call)

    def node(self, span: Span) -> Node | None:
        """The node at the engine span `span`, or None."""
        where = byte_range(self.source, span)
        return None if where is None else node_at(self.source, *where)

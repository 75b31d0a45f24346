"""The rename fix: a misspelt table or column name becomes the "did you mean" suggestion."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.languages.python.codefix.call import (
    IDENTIFIER,
    Candidate,
    Context,
    call_of,
    node_code,
    parse_call,
    range_span,
    with_positions,
    within,
)
from dbheal_lsp.model import IssueType

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

# The string parts a misspelt name can stand in: a plain literal, or the text of an f-string.
_StringPart = TypeVar("_StringPart", "cst.SimpleString", "cst.FormattedStringText")


def rename(ctx: Context) -> Candidate | None:
    """The rename candidate for a misspelt name with a suggestion, or None."""
    import libcst as cst

    issue = ctx.issue
    suggestion = issue.suggestion or ""
    target = ctx.relative(issue.span)
    if target.line != target.end_line or not IDENTIFIER.match(suggestion):
        return None
    start = ctx.snippet_lines.offset(target.line, target.column)
    end = ctx.snippet_lines.offset(target.end_line, target.end_column)
    token = ctx.snippet[start:end]
    expected = issue.column_name if issue.type is IssueType.MISSING_COLUMN else issue.table
    if not token or expected is None or token.lower() != expected.lower().rpartition(".")[2]:
        return None  # the span is not the bare name as written (an escape, a fallback span)
    call = parse_call(ctx)
    if call is None:
        return None
    module, positions = with_positions(call)

    def replaced(value: str, pos: CodeRange) -> str | None:
        node_span = range_span(pos)
        if not within(target, node_span):
            return None
        # The offset of the token in the node's source text, lines counted as Python does.
        line = target.line - node_span.line
        try:
            line_start = LineIndex(value).line_start(line + 1)
        except ValueError:
            return None
        column = target.column - node_span.column if line == 0 else target.column - 1
        offset = line_start + column
        if value[offset : offset + len(token)] != token:
            return None
        return value[:offset] + suggestion + value[offset + len(token) :]

    class Rename(cst.CSTTransformer):
        """Replace the misspelt name inside the one string part that holds it."""

        def __init__(self) -> None:
            super().__init__()
            self.replaced = 0

        def _rename_in(self, original_node: _StringPart, updated_node: _StringPart) -> _StringPart:
            new = replaced(original_node.value, positions[original_node])
            if new is None:
                return updated_node
            self.replaced += 1
            return updated_node.with_changes(value=new)

        def leave_SimpleString(
            self, original_node: cst.SimpleString, updated_node: cst.SimpleString
        ) -> cst.SimpleString:
            return self._rename_in(original_node, updated_node)

        def leave_FormattedStringText(
            self, original_node: cst.FormattedStringText, updated_node: cst.FormattedStringText
        ) -> cst.FormattedStringText:
            return self._rename_in(original_node, updated_node)

    transformer = Rename()
    new_call = call_of(module.visit(transformer))
    if transformer.replaced != 1:
        return None
    what = "column" if issue.type is IssueType.MISSING_COLUMN else "table"
    return Candidate(
        "rename",
        f"rename:{issue.fingerprint}",
        f"Change {what} '{token}' to '{suggestion}'",
        node_code(new_call, ctx.newline),
        token=token,
        replacement=suggestion,
    )

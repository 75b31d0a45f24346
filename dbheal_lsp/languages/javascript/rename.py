"""The rename fix of a JS/TS MISSING_COLUMN or MISSING_TABLE with a "did you mean": the
misspelt name, where the issue's span says it is written, becomes the suggestion."""

from __future__ import annotations

import re

from dbheal_lsp.languages.javascript.edits import ByteEdit, Candidate
from dbheal_lsp.languages.javascript.fix_target import Target, byte_range
from dbheal_lsp.model import Issue, IssueType

__all__ = ["rename"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The literals SQL text is written in: a name is renamed only inside one of them.
_STRING_PARTS = frozenset({"string_fragment", "string", "template_string"})


def rename(target: Target, issue: Issue) -> Candidate | None:
    """The rename candidate of `issue`, or None when the span is not the bare name as
    written in a string of the code."""
    suggestion = issue.suggestion or ""
    if not _IDENTIFIER.match(suggestion) or issue.span.line != issue.span.end_line:
        return None
    source = target.source
    where = byte_range(source, issue.span)
    if where is None:
        return None
    start, end = where
    token = source.data[start:end].decode("utf-8", "surrogatepass")
    expected = issue.column_name if issue.type is IssueType.MISSING_COLUMN else issue.table
    if not token or expected is None or token.lower() != expected.lower().rpartition(".")[2]:
        return None  # the span is not the bare name as written (an escape, a fallback span)
    holder = source.tree.root_node.descendant_for_byte_range(start, end)
    if holder is None or holder.type not in _STRING_PARTS:
        return None
    what = "column" if issue.type is IssueType.MISSING_COLUMN else "table"
    return Candidate(
        "rename",
        f"Change {what} '{token}' to '{suggestion}'",
        (ByteEdit(start, end, suggestion),),
        token=token,
        replacement=suggestion,
    )

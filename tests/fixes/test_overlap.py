"""The one overlap rule of a whole-file fix (the CLI's `dbheal fix` and the editor's Fix all)."""

from __future__ import annotations

import pytest

from dbheal_lsp.fixes.overlap import edits_conflict, non_overlapping
from dbheal_lsp.model import CodeFix, Span, TextEdit


def _edit(line: int, column: int, end_line: int, end_column: int, text: str = "x") -> TextEdit:
    return TextEdit("app.py", Span(line, column, end_line, end_column), text)


def _fix(fix_id: str, *edits: TextEdit) -> CodeFix:
    return CodeFix(fix_id, "rename", fix_id, "app.py", "fp", edits, "hash")


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        # Sharing text.
        (_edit(1, 1, 1, 5), _edit(1, 3, 1, 8), True),
        (_edit(1, 1, 1, 9), _edit(1, 3, 1, 5), True),  # one inside the other
        (_edit(1, 1, 3, 2), _edit(2, 1, 2, 4), True),  # across lines
        (_edit(1, 4, 1, 8), _edit(1, 4, 1, 8), True),  # the same span
        # The same start: which new text comes first would be a guess.
        (_edit(1, 4, 1, 4), _edit(1, 4, 1, 4), True),  # two insertions at one offset
        (_edit(1, 4, 1, 4), _edit(1, 4, 1, 9), True),  # an insertion where a replacement starts
        # Touching is not overlapping.
        (_edit(1, 1, 1, 4), _edit(1, 4, 1, 8), False),  # one ends where the next starts
        (_edit(1, 1, 1, 4), _edit(1, 4, 1, 4), False),  # an insertion where an edit ends
        (_edit(1, 1, 1, 4), _edit(2, 1, 2, 4), False),  # other lines
        (_edit(1, 1, 2, 1), _edit(2, 1, 2, 3), False),  # ends at the next line's start
    ],
)
def test_edits_conflict(a: TextEdit, b: TextEdit, conflict: bool) -> None:
    assert edits_conflict(a, b) is conflict
    assert edits_conflict(b, a) is conflict  # symmetric


def test_non_overlapping_keeps_whole_fixes_first_come() -> None:
    first = _fix("a", _edit(1, 1, 1, 5), _edit(3, 1, 3, 5))
    overlaps_second_edit = _fix("b", _edit(2, 1, 2, 2), _edit(3, 2, 3, 3))
    touching = _fix("c", _edit(1, 5, 1, 9))
    duplicate = _fix("a", _edit(5, 1, 5, 2))
    same_insertion = _fix("d", _edit(1, 9, 1, 9)), _fix("e", _edit(1, 9, 1, 9))
    chosen = non_overlapping([first, overlaps_second_edit, touching, duplicate, *same_insertion])
    # b is left out whole (its first edit alone would fit), the second insertion at 1:9 too.
    assert [f.id for f in chosen] == ["a", "c", "d"]


def test_non_overlapping_of_nothing() -> None:
    assert non_overlapping([]) == []

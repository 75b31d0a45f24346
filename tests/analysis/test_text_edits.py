"""Text edits applied to a file's text, and the diff they make (`analysis/text_edits.py`)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.text_edits import apply_edits, unified_diff
from dbheal_lsp.model import Span, TextEdit


def test_apply_edits_counts_code_points_after_an_emoji() -> None:
    source = "x = '🎉🎉'; y = 1\nz = 2\n"
    edit = TextEdit("f.py", Span(1, 15, 1, 16), "42")  # the "1" after two emoji
    assert apply_edits(source, [edit]) == "x = '🎉🎉'; y = 42\nz = 2\n"


def test_apply_edits_in_any_order_and_across_lines() -> None:
    source = "a = 1\r\nb = 2\r\nc = 3\r\n"
    edits = [
        TextEdit("f.py", Span(3, 5, 3, 6), "30"),
        TextEdit("f.py", Span(1, 5, 2, 6), "10\r\nb = 20"),
        TextEdit("f.py", Span(4, 1, 4, 1), "d = 4\r\n"),
    ]
    assert apply_edits(source, edits) == "a = 10\r\nb = 20\r\nc = 30\r\nd = 4\r\n"


def test_apply_edits_reads_lines_as_python_does() -> None:
    # A lone \r ends a line too (old Mac files); \f and \x1c do not, unlike str.splitlines.
    source = "a = 1\rb = 2\r\nc = '\x0c\x1c'; d = 4\n"
    edits = [TextEdit("f.py", Span(2, 5, 2, 6), "20"), TextEdit("f.py", Span(3, 15, 3, 16), "40")]
    assert apply_edits(source, edits) == "a = 1\rb = 20\r\nc = '\x0c\x1c'; d = 40\n"


def test_apply_edits_refuses_overlaps_and_positions_outside_the_text() -> None:
    source = "a = 1\nb = 2\n"
    with pytest.raises(ValueError, match="overlap"):
        apply_edits(
            source, [TextEdit("f", Span(1, 1, 1, 4), ""), TextEdit("f", Span(1, 3, 2, 1), "")]
        )
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(1, 9, 1, 9), "x")])
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(7, 1, 7, 1), "x")])


def test_unified_diff() -> None:
    diff = unified_diff("app/x.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    assert diff.splitlines()[:2] == ["--- a/app/x.py", "+++ b/app/x.py"]
    assert "-b = 2\n+b = 3\n" in diff
    assert unified_diff("app/x.py", "same\n", "same\n") == ""
    assert "\\ No newline at end of file" in unified_diff("x.py", "a", "b")

"""Byte edits of a JS file made into the engine's one text edit, in code-point columns."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.text_edits import apply_edits
from dbheal_lsp.languages.javascript.edits import ByteEdit, applied, text_edit
from dbheal_lsp.languages.javascript.parse import Parsers
from dbheal_lsp.model import Span


def test_edits_after_an_emoji_land_on_the_right_characters() -> None:
    text = 'log("🎉 é"); db.all(`x = ${v}`);\n'
    source = Parsers().tree("a.js", text)
    data = source.data
    start = data.index(b"${v}")
    end_array = data.index(b"`)") + 1

    edit, new = text_edit(
        source, "a.js", [ByteEdit(start, start + 4, "?"), ByteEdit(end_array, end_array, ", [v]")]
    )

    assert new == 'log("🎉 é"); db.all(`x = ?`, [v]);\n'
    column = text.index("${v}") + 1  # code points: the emoji is one column
    assert edit.span == Span(1, column, 1, text.index("`)") + 2)
    assert apply_edits(text, [edit]) == new


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ValueError, match="overlapping"):
        applied(b"abcdef", [ByteEdit(0, 3, "x"), ByteEdit(2, 4, "y")])


def test_insertions_at_one_place_keep_their_order() -> None:
    assert applied(b"[b]", [ByteEdit(1, 1, "a, "), ByteEdit(2, 2, ", c")]) == b"[a, b, c]"

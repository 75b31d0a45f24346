"""Tests of what text reads as SQL (languages/python/sql_text.py)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece, ValueInfo
from dbheal_lsp.languages.python.sql_text import inlinable, is_select, starts_like_sql
from dbheal_lsp.model import Span


def _text(text: str) -> TextPiece:
    return TextPiece(text, tuple((1, i) for i in range(len(text))))


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("SELECT 1", True),
        ("  -- note\n  (select id from t)", True),
        ("pragma user_version", True),
        ("Selected items", False),
        ("name = ?", False),
    ],
)
def test_text_starts_like_sql_after_blanks_comments_and_brackets(text: str, sql: bool) -> None:
    assert starts_like_sql(text) is sql


def test_a_select_with_slots_is_inlined_a_fragment_with_slots_is_not() -> None:
    slot = Slot(0, "fstring", ValueInfo("where", Span(1, 1, 1, 6)))
    subquery: list[Piece] = [_text("SELECT id FROM users WHERE "), slot]
    fragment: list[Piece] = [_text("AND "), slot]
    plain: list[Piece] = [_text("AND deleted = 0")]
    assert is_select(subquery) and not is_select(fragment)
    assert inlinable([subquery, plain]) == [subquery, plain]
    assert inlinable([fragment]) is None
    assert inlinable([[slot, _text(" UNION SELECT 1")]]) is None

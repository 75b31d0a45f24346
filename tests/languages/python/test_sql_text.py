"""Tests of what text reads as SQL (languages/python/sql_text.py)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece, ValueInfo
from dbheal_lsp.languages.python.sql_text import inlinable, starts_like_sql
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


def test_a_value_that_starts_as_written_is_inlined_one_that_starts_unread_is_not() -> None:
    slot = Slot(0, "fstring", ValueInfo("where", Span(1, 1, 1, 6)))
    subquery: list[Piece] = [_text("SELECT id FROM users WHERE "), slot]
    table_and_join: list[Piece] = [_text("items"), _text(" "), slot]
    plain: list[Piece] = [_text("AND deleted = 0")]
    assert inlinable([subquery, plain]) == [subquery, plain]
    assert inlinable([table_and_join]) == [table_and_join]
    assert inlinable([[slot, _text(" UNION SELECT 1")]]) is None
    assert inlinable([plain, [_text("  "), slot]]) is None

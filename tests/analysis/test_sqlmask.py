"""Tests of SQL text with strings, quoted names and comments blanked (analysis/sqlmask.py)."""

from __future__ import annotations

from dbheal_lsp.analysis.sqlmask import masked, masked_values, star_offsets


def test_masked_blanks_strings_names_and_comments_keeping_offsets() -> None:
    text = "SELECT \"a b\", 'it''s' FROM t -- note\nWHERE x = 1 /* c */"
    blank = masked(text)
    assert len(blank) == len(text)
    assert blank == "SELECT      ,         FROM t        \nWHERE x = 1        "
    kept = masked_values(text)
    assert "'it''s'" in kept and '"a b"' not in kept and "note" not in kept


def test_an_unterminated_string_or_comment_is_blanked_to_the_end() -> None:
    assert masked("SELECT 'open") == "SELECT      "
    assert masked("SELECT 1 /* open") == "SELECT 1        "


def test_star_offsets_find_select_stars_not_count_star() -> None:
    text = "SELECT * , a.* , count(*) FROM t a"
    assert [text[s:e] for s, e in star_offsets(text)] == ["*", "a.*"]

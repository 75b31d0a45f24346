"""Tree-sitter's byte offsets as the engine's positions: code points, whatever the text holds."""

from __future__ import annotations

from dbheal_lsp.analysis.positions import column_to_utf16
from dbheal_lsp.languages.javascript.offsets import Offsets
from dbheal_lsp.model import Span


def _byte(text: str, char: int) -> int:
    return len(text[:char].encode("utf-8"))


def test_ascii_text_is_its_own_table() -> None:
    offsets = Offsets("a\nbc\n")
    assert (offsets.char(3), offsets.position(3)) == (3, (2, 2))


def test_non_ascii_characters_count_one_column_each() -> None:
    text = "const s = 'Grüße 🎉';\nq(`SELECT naem`)\n"
    offsets = Offsets(text)
    at = text.index("naem")
    assert offsets.char(_byte(text, at)) == at
    assert offsets.position(_byte(text, at)) == (2, 11)
    emoji = text.index("🎉")
    assert offsets.position(_byte(text, emoji)) == (1, emoji + 1)
    assert offsets.position(_byte(text, emoji + 1)) == (1, emoji + 2)  # one column, 4 bytes


def test_a_span_is_exclusive_and_its_lsp_columns_count_utf16() -> None:
    line = "x = '🎉'; db.all('SELECT naem FROM t')"
    offsets = Offsets(line)
    start = line.index("naem")
    span = offsets.span(_byte(line, start), _byte(line, start + 4))
    assert span == Span(1, start + 1, 1, start + 5)
    # The emoji is two UTF-16 units: the editor's column is one more than the code points.
    assert column_to_utf16(line, span.column) == start + 1


def test_lines_split_at_crlf_and_lone_cr() -> None:
    text = "a\r\nb\rc🎉d"
    offsets = Offsets(text)
    assert offsets.position(_byte(text, text.index("c"))) == (3, 1)
    assert offsets.position(_byte(text, text.index("d"))) == (3, 3)

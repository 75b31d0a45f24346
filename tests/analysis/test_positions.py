"""Tests of dbheal_lsp.analysis.positions: column conversions and the line index.

Every expected (line, column) below was counted by hand on the source shown (1-based lines,
1-based code-point columns), not taken from the code under test.
"""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.positions import (
    LineIndex,
    column_to_utf16,
    utf8_col_to_column,
    utf16_to_column,
)


def test_utf8_col_to_column() -> None:
    line = 'x = "😀é" + "a"\n'
    # bytes: x0 ' '1 =2 ' '3 "4 😀5-8 é9-10 "11 ' '12 +13 ' '14 "15 a16
    assert utf8_col_to_column(line, 0) == 1
    assert utf8_col_to_column(line, 4) == 5
    assert utf8_col_to_column(line, 5) == 6
    assert utf8_col_to_column(line, 9) == 7
    assert utf8_col_to_column(line, 11) == 8
    assert utf8_col_to_column(line, 15) == 12
    assert utf8_col_to_column(line, 7) == 6  # inside the emoji: its column
    assert utf8_col_to_column("abc", 2) == 3
    assert utf8_col_to_column("é", 4) == 4  # past the end: excess bytes count one each


def test_utf16_conversions() -> None:
    line = 'x = "😀é" + "a"\n'
    # columns: x1 ' '2 =3 ' '4 "5 😀6 é7 "8 ...; UTF-16: the emoji takes units 5 and 6.
    assert column_to_utf16(line, 1) == 0
    assert column_to_utf16(line, 6) == 5
    assert column_to_utf16(line, 7) == 7
    assert column_to_utf16(line, 8) == 8
    assert column_to_utf16(line, 13) == 13
    assert utf16_to_column(line, 0) == 1
    assert utf16_to_column(line, 5) == 6
    assert utf16_to_column(line, 7) == 7
    assert utf16_to_column(line, 8) == 8
    assert utf16_to_column(line, 6) == 6  # between the two halves of the emoji
    for column in range(1, len(line) + 4):
        assert utf16_to_column(line, column_to_utf16(line, column)) == column
    assert column_to_utf16("abc", 3) == 2
    assert utf16_to_column("abc", 2) == 3
    assert column_to_utf16("😀", 4) == 4  # past the end
    assert utf16_to_column("😀", 4) == 4


@pytest.mark.parametrize("source", ["a\nbé\n\nc", "a\r\nbé\r\n\r\nc", "a\rbé\r\rc", "a\r\nbé\n\rc"])
def test_line_index_round_trips_every_offset(source: str) -> None:
    index = LineIndex(source)
    for offset in range(len(source) + 1):
        line, column = index.position(offset)
        if source[offset - 1 : offset + 1] != "\r\n":  # between \r and \n is on no line
            assert index.offset(line, column) == offset, (offset, line, column)
    assert [index.line(n) for n in range(1, 5)] == ["a", "bé", "", "c"]
    assert index.line(5) == ""


def test_line_index_splits_lines_as_python_does() -> None:
    # \f and \x1c end no line for Python (unlike str.splitlines); a lone \r does.
    index = LineIndex("a\x0cb\x1cc\rd\n")
    assert index.position(6) == (2, 1)
    assert index.offset(2, 2) == 7
    assert index.line(1) == "a\x0cb\x1cc"
    assert index.position(8) == (3, 1)
    assert index.line_start(3) == 8


def test_line_index_refuses_positions_outside_the_text() -> None:
    index = LineIndex("ab\ncd\n")
    assert index.offset(1, 3) == 2  # where the line break stands
    assert index.offset(3, 1) == 6  # the empty line after the last break
    for line, column in [(1, 4), (1, 0), (0, 1), (4, 1), (3, 2)]:
        with pytest.raises(ValueError):
            index.offset(line, column)

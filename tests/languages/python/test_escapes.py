"""escapes.py: a literal's backslash escapes decode to what Python itself makes of them."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.escapes import decode_escape


@pytest.mark.parametrize(
    "escape",
    ["\\n", "\\t", "\\\\", "\\'", '\\"', "\\0", "\\101", "\\x41", "\\u00e9", "\\U0001F389"],
)
def test_each_escape_decodes_as_python_decodes_it(escape: str) -> None:
    text, end = decode_escape(escape + "z", 0) or ("", 0)
    assert text + escape[end:] + "z" == ast.literal_eval(f'"{escape}z"')


def test_a_named_character() -> None:
    assert decode_escape("\\N{BULLET}!", 0) == ("\u2022", 10)


def test_an_unknown_escape_is_its_backslash_alone() -> None:
    # `\q` is no escape: the backslash stays and the q is read as usual.
    assert decode_escape("\\qz", 0) == ("\\", 1)


def test_a_line_continuation_stands_for_nothing() -> None:
    assert decode_escape("\\\r\nx", 0) == ("", 3)
    assert decode_escape("\\\nx", 0) == ("", 2)


def test_malformed_escapes_are_refused() -> None:
    assert decode_escape("\\x4", 0) is None  # cut short
    assert decode_escape("\\U00110000", 0) is None  # past the last code point
    assert decode_escape("\\N{NO SUCH NAME}", 0) is None
    assert decode_escape("\\", 0) is None


def test_bytes_know_no_unicode_escapes() -> None:
    assert decode_escape("\\u00e9", 0, is_bytes=True) == ("\\", 1)
    assert decode_escape("\\x41", 0, is_bytes=True) == ("A", 4)

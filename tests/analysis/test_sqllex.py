"""The one SQL tokenizer: each kind of token, exact offsets, and quotes or comments left open."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.sqllex import significant_tokens, tokenize


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a", [("word", "SELECT"), ("space", " "), ("word", "a")]),
        (
            '"a""b" [x y] `c`',
            [
                ("quoted", '"a""b"'),
                ("space", " "),
                ("quoted", "[x y]"),
                ("space", " "),
                ("quoted", "`c`"),
            ],
        ),
        ("'it''s'", [("string", "'it''s'")]),
        (
            "1 1.5e-3 .5 0x1F",
            [
                ("number", "1"),
                ("space", " "),
                ("number", "1.5e-3"),
                ("space", " "),
                ("number", ".5"),
                ("space", " "),
                ("number", "0x1F"),
            ],
        ),
        (
            "? ?1 :n @n $n",
            [
                ("param", "?"),
                ("space", " "),
                ("param", "?1"),
                ("space", " "),
                ("param", ":n"),
                ("space", " "),
                ("param", "@n"),
                ("space", " "),
                ("param", "$n"),
            ],
        ),
        (
            "a--x\n/*y*/b",
            [
                ("word", "a"),
                ("comment", "--x"),
                ("space", "\n"),
                ("comment", "/*y*/"),
                ("word", "b"),
            ],
        ),
        ("t.c;", [("word", "t"), ("punct", "."), ("word", "c"), ("punct", ";")]),
        ("naïve_名", [("word", "naïve_名")]),
    ],
)
def test_tokens_by_kind(sql: str, expected: list[tuple[str, str]]) -> None:
    found = list(tokenize(sql))
    assert [(t.kind, t.text) for t in found] == expected
    assert "".join(t.text for t in found) == sql
    assert all(sql[t.start : t.end] == t.text for t in found)


@pytest.mark.parametrize(
    ("sql", "closed"),
    [
        ("'open", False),
        ("'done'", True),
        ('"a""', False),
        ("[x", False),
        ("-- to the end", False),
        ("-- line\n", True),
        ("/* open", False),
        ("/*/", False),
        ("/* done */", True),
    ],
)
def test_open_quotes_and_comments(sql: str, closed: bool) -> None:
    assert next(iter(tokenize(sql))).closed is closed


def test_names_lose_their_quotes() -> None:
    names = [t.name for t in significant_tokens('"a""b" [x y] \'it\'\'s\' plain "open""')]
    assert names == ['a"b', "x y", "it's", "plain", 'open"']

"""Where an unquoted slot stands for a value (`dbheal_lsp.analysis.value_context`)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.value_context import last_token, value_context


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("a =", "="),
        ("x IN (", "("),
        ("WHERE a BETWEEN 1 AND", "AND"),
        ("123abc", "abc"),
        ("x 123", None),
        ("tab.col", "col"),
        ("", None),
        # A long word is read once backwards (an end-anchored pattern retried every position).
        ("w" * 200_000, "w" * 200_000),
    ],
)
def test_last_token_before_a_slot(text: str, token: str | None) -> None:
    assert last_token(text) == token


@pytest.mark.parametrize(
    ("sql", "is_value"),
    [
        ("SELECT a FROM t WHERE a BETWEEN 1 AND {}", True),
        ("SELECT a FROM t WHERE a = 1 AND {}", False),
        ("SELECT a FROM t WHERE a BETWEEN 1 AND 2 AND {}", False),
    ],
)
def test_between_and_is_a_value_position(sql: str, is_value: bool) -> None:
    start = sql.index("{}")
    assert value_context(sql, start, start + 2) is is_value

"""Placeholders respelled `$1..$n` for the server, PostgreSQL's own `?` operators and casts kept."""

from __future__ import annotations

from dbheal_lsp.analysis.placeholders import normalize_placeholders
from dbheal_lsp.databases.postgres.params import dollar_text


def _sent(sql: str) -> str:
    # `%s` became `? ` (lengths kept): the space stays, harmless to the server.
    return " ".join(dollar_text(normalize_placeholders(sql)).text.split())


def test_pyformat_positional_and_named() -> None:
    assert _sent("SELECT a FROM t WHERE b = %s AND c = %s") == (
        "SELECT a FROM t WHERE b = $1 AND c = $2"
    )
    named = dollar_text(normalize_placeholders("SELECT %(x)s, %(y)s, %(x)s"))
    assert " ".join(named.text.split()) == "SELECT $1 , $2 , $1"
    assert named.count == 2


def test_casts_strings_and_jsonb_operators_stay() -> None:
    assert _sent("SELECT x::int, '?' FROM t WHERE id = %s") == (
        "SELECT x::int, '?' FROM t WHERE id = $1"
    )
    assert _sent("SELECT 1 FROM t WHERE d ? 'k' AND d ?| ARRAY['a'] AND e = %s") == (
        "SELECT 1 FROM t WHERE d ? 'k' AND d ?| ARRAY['a'] AND e = $1"
    )
    assert _sent("SELECT 1 FROM t LIMIT ? OFFSET ?") == "SELECT 1 FROM t LIMIT $1 OFFSET $2"


def test_offsets_map_back_to_the_callers_text() -> None:
    text = "SELECT ? , naem"
    sent = dollar_text(text)
    assert sent.text == "SELECT $1 , naem"
    assert text[sent.original_offset(sent.text.index("naem"))] == "n"
    assert sent.original_offset(sent.text.index("$1") + 1) == text.index("?")


def test_existing_dollar_parameters_count() -> None:
    assert dollar_text("SELECT $1, $2").count == 2

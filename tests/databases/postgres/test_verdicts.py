"""The server's SQLSTATE and message read back as verdicts (the judge's tests prepare them on a
real server; these pin the mapping of each kind)."""

from __future__ import annotations

from dbheal_lsp.databases.postgres.params import dollar_text
from dbheal_lsp.databases.postgres.verdicts import verdict_of


def test_each_sqlstate_becomes_its_kind() -> None:
    sent = dollar_text("SELECT a FROM t")
    table = verdict_of("42P01", 'relation "public.t" does not exist', 15, sent)
    assert (table.kind, table.name) == ("no_table", "t")
    column = verdict_of("42703", "column t.a does not exist", 8, sent)
    assert (column.kind, column.name, column.qualifier) == ("no_column", "a", "t")
    syntax = verdict_of("42601", 'syntax error at or near "FROM"', 10, sent)
    assert (syntax.kind, syntax.name) == ("syntax", "FROM")
    end = verdict_of("42601", "syntax error at end of input", None, sent)
    assert (end.kind, end.name) == ("syntax", None)
    mismatch = verdict_of("42804", "argument of WHERE must be type boolean", 8, sent)
    assert (mismatch.kind, mismatch.name, mismatch.offset) == ("type", "a", 7)
    other = verdict_of("42P10", "some other rule of the language", 8, sent)
    assert (other.kind, other.name) == ("error", "a")


def test_what_depends_on_the_runtime_is_not_judged() -> None:
    sent = dollar_text("SELECT f(1)")
    assert verdict_of("42883", "function f(integer) does not exist", 8, sent).kind == "ok"
    assert (
        verdict_of(
            "42601", "cannot insert multiple commands into a prepared statement", None, sent
        ).kind
        == "ok"
    )


def test_a_timeout_or_lost_connection_is_not_a_finding() -> None:
    sent = dollar_text("SELECT a FROM t")
    assert verdict_of("55P03", "canceling statement due to lock timeout", None, sent).kind == "ok"
    assert verdict_of("57P01", "terminating connection", None, sent).kind == "ok"
    assert verdict_of("", "", None, sent).kind == "ok"

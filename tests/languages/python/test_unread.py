"""unread.py: the Python calls given SQL-looking strings that dbheal does not read."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.languages.python.filecontext import ExtractOptions
from dbheal_lsp.languages.python.unread import unread_calls

SOURCE = textwrap.dedent(
    """
    import sqlite3

    def names(store, db):
        store.run_sql("SELECT nmae FROM users WHERE id = ?", (1,))
        store.run_sql("UPDATE users SET name = ? " + "WHERE id = ?", ("a", 1))
        log.debug("SELECT name FROM users")  # shown, not run
        store.run_sql("Select a file")  # prose
        return db.execute("SELECT id, name FROM users")
    """
)


def test_calls_given_sql_but_not_read_are_named_with_their_line() -> None:
    tree = ast.parse(SOURCE)
    statements = Extractor(ExtractOptions(calls=DEFAULT_CALLS)).extract(SOURCE, tree)
    assert len(statements) == 1  # db.execute
    found = unread_calls(tree, statements, DEFAULT_CALLS)
    assert [(c.name, c.line) for c in found] == [("run_sql", 5), ("run_sql", 6)]


def test_a_call_named_in_the_settings_is_read() -> None:
    tree = ast.parse(SOURCE)
    assert unread_calls(tree, (), DEFAULT_CALLS | {"run_sql", "debug"}) == ()

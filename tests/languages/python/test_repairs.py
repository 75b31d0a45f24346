"""repairs.py: the statements of a Python file being typed, from repaired copies of its text."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.languages.python.filecontext import ExtractOptions
from dbheal_lsp.languages.python.repairs import repaired_statements

EXTRACTOR = Extractor(ExtractOptions(calls=DEFAULT_CALLS))
TABLE = "TABLE = 'users'\n\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # A string left open where the user types, the call's bracket too.
        (TABLE + "def f(conn):\n    conn.execute('SELECT id FROM users WHERE \n", 4),
        # The call left open, the rest of the file broken below the cursor.
        (TABLE + "def f(conn):\n    conn.execute(f'SELECT id FROM {TABLE}'\n\ndef g(:\n", 4),
        # An f-string field being typed.
        (TABLE + "def f(conn):\n    conn.execute(f'SELECT id FROM {\n", 4),
    ],
)
def test_the_statement_under_the_cursor_is_found_in_a_half_typed_file(text: str, line: int) -> None:
    with pytest.raises(SyntaxError):
        ast.parse(text)
    (statement,) = repaired_statements(EXTRACTOR, "app.py", text, line)
    assert statement.span.line == line
    assert statement.literal_text.startswith("SELECT id FROM ")


def test_nothing_when_no_repair_helps() -> None:
    text = "def f(conn:\n    conn.execute('SELECT 1')\n)))\n"
    assert repaired_statements(EXTRACTOR, "app.py", text, 2) == ()
    assert repaired_statements(EXTRACTOR, "app.py", "x = (\n", 99) == ()

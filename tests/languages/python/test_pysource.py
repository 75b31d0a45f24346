"""Code written for a newer Python is still read (pysource.py): PEP 758's `except A, B:`."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.languages.python.pysource import parse_module, span_of
from dbheal_lsp.model import Span
from tests.conftest import run_dbheal

APP = """import sqlite3

db = sqlite3.connect("app.db")


def load(key):
    try:
        return db.execute("SELECT vlaue FROM kv WHERE k = ?", (key,)).fetchone()
    except ValueError, TypeError:
        return None


def same_line(key):
    try:
        pass
    except ValueError, KeyError: db.execute("SELECT k FROM kvv")
"""


def test_an_unbracketed_except_list_is_read_with_positions_as_written() -> None:
    tree = parse_module(APP, "app.py")
    handler = next(n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.lineno == 16)
    assert isinstance(handler.type, ast.Tuple)
    line = APP.splitlines()[15]
    call = handler.body[0]
    assert line[call.col_offset : call.end_col_offset] == 'db.execute("SELECT k FROM kvv")'
    names = [e for e in handler.type.elts if isinstance(e, ast.Name)]
    assert [line[n.col_offset : n.end_col_offset] for n in names] == ["ValueError", "KeyError"]


@pytest.mark.parametrize(
    "source",
    ["try:\n    pass\nexcept A, B as e:\n    pass\n", "def f(:\n    pass\n"],
    ids=["with-as", "not-python"],
)
def test_what_no_python_accepts_is_still_a_syntax_error(source: str) -> None:
    with pytest.raises(SyntaxError):
        parse_module(source, "bad.py")


def test_dbheal_check_reports_the_tokens_of_a_file_using_pep_758(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, value TEXT)")
    conn.close()
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    done = run_dbheal(tmp_path, "check", "--database", "app.db", "--no-cache", "app.py")
    out = done.stdout
    assert "app.py:8:" in out and "vlaue" in out, out
    assert "app.py:16:" in out and "kvv" in out, out
    assert "not checked" not in out and "syntax error" not in out.lower(), out


def test_type_parameters_of_python_3_12_are_read_past_with_positions_as_written() -> None:
    source = (
        "import sqlite3\n"
        "db = sqlite3.connect('app.db')\n"
        "def api[T: (int, str)](f: T) -> T:\n"
        "    return f\n"
        "class Box[T]:\n"
        "    def get(self, k):\n"
        "        try:\n"
        "            return db.execute('SELECT v FROM kv WHERE k = ?', (k,))\n"
        "        except ValueError, KeyError:\n"
        "            return None\n"
    )
    tree = parse_module(source, "app.py")
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == 8)
    line = source.splitlines()[7]
    assert line[call.col_offset : call.end_col_offset].startswith("db.execute('SELECT v FROM kv")
    assert [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))] == [
        "api",
        "Box",
    ]


def test_span_of() -> None:
    source = 'x = "😀é" + name\n'
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "name"]
    assert span_of(lines, names[0]) == Span(1, 12, 1, 16)
    binop = next(n for n in ast.walk(tree) if isinstance(n, ast.BinOp))
    assert span_of(lines, binop) == Span(1, 5, 1, 16)

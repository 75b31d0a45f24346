"""analyzer.py: Python's `Analyzer`, one project's reading of its Python files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.file_texts import FileTexts
from dbheal_lsp.config import load_config
from dbheal_lsp.languages.language import Run, SourceSyntaxError
from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
from tests.analysis.test_project import HEADER, write


def _analyzer(root: Path) -> PythonAnalyzer:
    return PythonAnalyzer(load_config(root))


def test_a_syntax_error_says_where(tmp_path: Path) -> None:
    with pytest.raises(SourceSyntaxError) as caught:
        _analyzer(tmp_path).parse("app.py", "x = 1\ndef f(:\n")
    assert caught.value.line == 2
    assert caught.value.message == "Python syntax error: invalid syntax (line 2)"


def test_the_statements_of_a_file_and_the_calls_it_does_not_read(tmp_path: Path) -> None:
    analyzer = _analyzer(tmp_path)
    text = HEADER + "conn.execute('SELECT 1')\nrun_sql('SELECT id FROM users')\n"
    assert analyzer.might_contain_sql(text)
    assert not analyzer.might_contain_sql("x = 'SELECT 1'\n")

    source = analyzer.parse("app.py", text)
    statements = analyzer.statements(source)

    assert [(s.call, s.span.line, s.literal_text) for s in statements] == [
        ("execute", 4, "SELECT 1")
    ]
    assert [(c.name, c.line) for c in analyzer.unread_calls(source, statements)] == [("run_sql", 5)]
    assert "execute" in analyzer.reads_calls()


def test_the_constants_learned_reach_the_statements(tmp_path: Path) -> None:
    # A table name passed from another file is read into the query of this one.
    files = [
        write(
            tmp_path,
            "a.py",
            HEADER + "def count(table):\n    conn.execute(f'SELECT 1 FROM {table}')\n",
        ),
        write(tmp_path, "b.py", "from a import count\ncount('users')\n"),
    ]
    analyzer = _analyzer(tmp_path)
    analyzer.learn(files, Run(FileTexts(tmp_path, use_cache=False), use_cache=False))
    text = files[0].read_text()
    (statement,) = analyzer.statements(analyzer.parse("a.py", text))
    assert statement.literal_text == "SELECT 1 FROM users"
    unlearned = _analyzer(tmp_path)
    (statement,) = unlearned.statements(unlearned.parse("a.py", text))
    assert [s.value.source for s in statement.slots] == ["table"]

    # A worker process is given them instead of learning them again: the same digest.
    other = _analyzer(tmp_path)
    other.use(analyzer.learned())
    assert other.digest() == analyzer.digest() != _analyzer(tmp_path).digest()


def test_the_ddl_pass_keeps_the_statements_it_found_for_the_check(tmp_path: Path) -> None:
    schema = write(tmp_path, "schema.py", HEADER + "conn.execute('CREATE TABLE t (id INTEGER)')\n")
    analyzer = _analyzer(tmp_path)
    texts = FileTexts(tmp_path, use_cache=False)

    ddl = analyzer.code_ddl([schema], Run(texts, use_cache=False))

    assert [(sql, origin.path, origin.line) for sql, origin in ddl] == [
        ("CREATE TABLE t (id INTEGER)", "schema.py", 4)
    ]
    assert set(analyzer.found) == {"schema.py"}
    # The check of the same text reads the same tree; the run's end forgets them.
    parsed = analyzer.parse("schema.py", schema.read_text())
    assert parsed.tree is analyzer.found["schema.py"][1]
    analyzer.end_run()
    assert analyzer.found == {}

"""language.py: Python as the registry's `Language`: its files, its decoding, its code fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.text_edits import apply_edits
from dbheal_lsp.config import load_config
from dbheal_lsp.files import SourceNotText
from dbheal_lsp.languages.language import Language
from dbheal_lsp.languages.python.analyzer import PythonAnalyzer
from dbheal_lsp.languages.python.language import PYTHON_EXTENSIONS, PythonLanguage
from dbheal_lsp.model import IssueType
from tests.analysis.test_project import HEADER, make_db

PYTHON: Language = PythonLanguage()


def test_python_reads_py_files() -> None:
    assert (PYTHON.name, PYTHON.extensions) == ("python", PYTHON_EXTENSIONS) == ("python", (".py",))


def test_the_text_is_decoded_as_python_decodes_it() -> None:
    assert PYTHON.decode("# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1")).endswith("'é'\n")
    assert PYTHON.decode(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"  # the BOM is dropped
    with pytest.raises(SourceNotText):
        PYTHON.decode(b"x = '\xff'\n")


def test_each_project_gets_its_own_analyzer(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    first, second = PYTHON.analyzer(config), PYTHON.analyzer(config)
    assert isinstance(first, PythonAnalyzer) and first is not second


def test_the_code_fix_of_a_misspelt_column_is_offered(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER, name TEXT);")
    project = Project(load_config(tmp_path, {"database": str(tmp_path / "app.db")}))
    source = HEADER + "conn.execute('SELECT nmae FROM users')\n"
    (issue,) = project.check_source("app.py", source).issues
    assert issue.type is IssueType.MISSING_COLUMN

    (fix,) = PYTHON.code_fixes(source, issue, project)

    assert fix.kind == "rename"
    assert apply_edits(source, fix.edits).endswith("conn.execute('SELECT name FROM users')\n")


def test_a_rewrite_keeps_the_encoding_python_reads_the_file_in() -> None:
    python = PythonLanguage()
    assert python.encoding(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n") == "iso-8859-1"
    assert python.encoding(b"\xef\xbb\xbfx = 1\n") == "utf-8-sig"
    assert python.encoding(b"x = 1\n") == "utf-8"


def test_a_fixed_text_that_is_not_python_says_why_and_where() -> None:
    python = PythonLanguage()
    assert python.syntax_problem("x = (1,\n 2)\n") is None
    problem = python.syntax_problem("x = 1\ny = (\n")
    assert problem is not None
    assert problem.line == 2
    assert problem.message.startswith("Python syntax error: ")
    assert python.syntax_problem("x = 1\x00\n") is not None

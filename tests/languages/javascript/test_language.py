"""`JavaScriptLanguage`: its files, how they are decoded and written, and no code fix yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.files import SourceNotText
from dbheal_lsp.languages import language_for
from dbheal_lsp.languages.javascript.language import JavaScriptLanguage
from tests.analysis.test_project import make_db

LANGUAGE = JavaScriptLanguage()


@pytest.mark.parametrize("ending", [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"])
def test_every_ending_is_read_as_javascript(ending: str) -> None:
    language = language_for(f"src/app{ending}")
    assert language is not None and language.name == "javascript"


def test_decoding_drops_a_bom_and_refuses_what_is_not_utf8() -> None:
    assert LANGUAGE.decode("\ufeffconst é = 1;".encode()) == "const é = 1;"
    assert LANGUAGE.encoding(b"\xef\xbb\xbfx") == "utf-8-sig"
    assert LANGUAGE.encoding(b"x") == "utf-8"
    with pytest.raises(SourceNotText, match="not UTF-8 text"):
        LANGUAGE.decode(b"const a = '\xff';")


def test_syntax_problem_names_the_line() -> None:
    assert LANGUAGE.syntax_problem("const a = 1;\n") is None
    problem = LANGUAGE.syntax_problem("const a = 1;\nconst = ;\n")
    assert problem is not None and problem.line == 2


def test_no_code_fix_exists_yet(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER);\n")
    project = Project(load_config(tmp_path, {"database": str(tmp_path / "app.db")}))
    (issue,) = project.check_source("a.js", "db.all('SELECT nmae FROM users');\n").issues
    assert LANGUAGE.code_fixes("db.all('SELECT nmae FROM users');\n", issue, project) == ()

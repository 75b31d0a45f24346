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
from tests.conftest import run_dbheal

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


def test_typescript_and_tsx_text_has_no_syntax_problem() -> None:
    # A fix's result is checked without its file's name: a .ts file's text must pass.
    assert LANGUAGE.syntax_problem("const f = (db: Db, id: string): number => 1;\n") is None
    assert LANGUAGE.syntax_problem("const e = <div>{(x as number) + 1}</div>;\n") is None


def test_the_code_fixes_come_through_the_language(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER, name TEXT);\n")
    project = Project(load_config(tmp_path, {"database": str(tmp_path / "app.db")}))
    text = "db.all('SELECT nmae FROM users');\n"
    (issue,) = project.check_source("a.js", text).issues

    (fix,) = LANGUAGE.code_fixes(text, issue, project)

    assert (fix.kind, fix.title) == ("rename", "Change column 'nmae' to 'name'")


AUTH_JS = """// Die Sitzung prüfen 🔐
const db = require("./db");

async function session(userId) {
  const note = "é🙂"; return db.query(`SELECT * FROM sessions WHERE user_id = ${parseInt(userId)}`);
}

function profile(id) {
  return db.prepare("SELECT nmae FROM users WHERE id = ?").get(id);
}
"""


def test_dbheal_check_reports_js_issues_at_their_line_and_column(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "auth.js").write_text(AUTH_JS, encoding="utf-8")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "i.js").write_text("db.all('SELECT a FROM b')\n")

    done = run_dbheal(tmp_path, "check", "--database", "app.db", "--no-cache", ".")

    assert done.returncode == 1, done.stdout + done.stderr
    lines = AUTH_JS.splitlines()
    table = lines[4].index("sessions") + 1  # code points: é and 🙂 are one column each
    column = lines[8].index("nmae") + 1
    assert (
        f"routes/auth.js:5:{table}: critical MISSING_TABLE no such table: sessions" in done.stdout
    )
    assert f"routes/auth.js:9:{column}: " in done.stdout and "MISSING_COLUMN" in done.stdout
    assert "node_modules" not in done.stdout

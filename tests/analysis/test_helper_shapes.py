"""Helpers that carry SQL in their own shape, described in [tool.dbheal.calls] (issue 11, 11).

fixtures/accuracy/helpers_*.py are annotated as in test_checker.py (`# expect: TYPE token`) and
checked against a real SQLite file; the setting is also read from a real pyproject.toml by the
`dbheal` command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import ConfigError, load_config
from tests.analysis.test_checker import assert_fixture_file, database_with
from tests.conftest import run_dbheal, write_app

FIXTURES = Path(__file__).parent / "fixtures" / "accuracy"
CASES = sorted(FIXTURES.glob("helpers_*.py"))
CALLS = {
    "upsert": {"table": 0, "columns": [1, 2]},
    "mass_action": {"statements": 0},
    "run": {"sql": 1},
}
SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);"


def _database(root: Path) -> Path:
    return database_with(root / "app.db", SCHEMA)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("helpers")
    settings = {"database": str(_database(root)), "calls": CALLS, "extra-calls": ["run_sql"]}
    return Project(load_config(root, settings))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    assert_fixture_file(project, case)


def test_the_message_names_the_table_and_a_suggestion(project: Project) -> None:
    source = 'def f(db, n):\n    db.upsert("users", {"nmae": n}, {})\n'
    (issue,) = project.check_source("a.py", source).issues
    assert issue.message == "no such column: users.nmae; did you mean 'name'?"


def test_without_the_setting_helpers_are_not_read(tmp_path: Path) -> None:
    bare = Project(load_config(tmp_path, {"database": str(_database(tmp_path))}))
    source = (FIXTURES / "helpers_shapes.py").read_text(encoding="utf-8")
    assert bare.check_source("helpers_shapes.py", source).issues == ()


APP = """def save(db, uid, name):
    db.upsert("users", {"nmae": name}, {"id": uid})
    db.mass_action([("UPDATE users SET emial = ?", (name,))])
"""


def _app(root: Path, setting: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _database(root)
    return write_app(root, APP, setting)


def test_the_calls_table_from_pyproject(tmp_path: Path) -> None:
    before = run_dbheal(_app(tmp_path / "without", ""), "check")
    assert before.returncode == 0, before.stdout + before.stderr
    setting = (
        "[tool.dbheal.calls]\n"
        "upsert = { table = 0, columns = [1, 2] }\n"
        "mass_action = { statements = 0 }\n"
    )
    after = run_dbheal(_app(tmp_path / "with", setting), "check")
    assert after.returncode == 1, after.stdout + after.stderr
    assert "app.py:2:" in after.stdout and "nmae" in after.stdout
    assert "app.py:3:" in after.stdout and "emial" in after.stdout


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("upsert = 1\n", "calls.upsert"),
        ("upsert = { table = 0 }\n", "columns"),
        ("upsert = { sql = 0, statements = 1 }\n", "one of"),
        ("upsert = { sql = -1 }\n", "calls.upsert.sql"),
        ("upsert = { sql = 1, colour = 2 }\n", "colour"),
        ('upsert = { table = 0, columns = ["a"] }\n', "columns"),
    ],
    ids=["not-a-table", "no-columns", "two-shapes", "negative", "unknown-key", "bad-columns"],
)
def test_a_bad_calls_setting_is_one_clear_line(tmp_path: Path, setting: str, words: str) -> None:
    root = _app(tmp_path / "app", "[tool.dbheal.calls]\n" + setting)
    done = run_dbheal(root, "check")
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with pytest.raises(ConfigError):
        load_config(root)


def test_a_shape_overrides_a_known_call_name(tmp_path: Path) -> None:
    """`execute = { sql = 1 }`: a wrapper's own execute(conn, sql, params) is read its way:
    argument 1 is the SQL (checked), never the parameters of DB-API's execute(sql, params)."""
    calls = {"execute": {"sql": 1}}
    shaped = Project(load_config(tmp_path, {"database": str(_database(tmp_path)), "calls": calls}))
    source = (
        "def f(helpers, conn, uid):\n"
        "    helpers.execute(conn, 'SELECT name FROM users WHERE id = 1')\n"
        "    helpers.execute(conn, 'SELECT nmae FROM users WHERE id = ?', (uid,))\n"
    )
    issues = shaped.check_source("a.py", source).issues
    assert [(i.span.line, i.type.value) for i in issues] == [(3, "MISSING_COLUMN")]

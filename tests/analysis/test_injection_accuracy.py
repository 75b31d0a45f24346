"""No false SQL_INJECTION on clean code (issue 11, patterns 2, 3, 4 and part of 13).

Each fixtures/accuracy/injection_*.py file is Python code annotated with what must be found, as in
test_checker.py: `# expect: TYPE token[; TYPE token]` on the line of the token. A line without an
annotation must give no issue, and the token is the exact text the issue's span covers. The files
are checked against a real SQLite database; the `safe-helpers` setting is also read from a real
pyproject.toml by the `dbheal` command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from tests.analysis.test_checker import assert_fixture_file, database_with
from tests.conftest import run_dbheal, write_app

FIXTURES = Path(__file__).parent / "fixtures" / "accuracy"
CASES = sorted(FIXTURES.glob("injection_*.py"))
SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER, score REAL, deleted INTEGER
);
CREATE INDEX idx_users_name ON users (name);
CREATE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_age ON users (age);
CREATE INDEX idx_users_score ON users (score);
CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);
CREATE INDEX idx_kv_v ON kv (v);
"""


def _database(root: Path) -> Path:
    return database_with(root / "app.db", SCHEMA)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("accuracy")
    db = _database(root)
    return Project(load_config(root, {"database": str(db), "safe-helpers": ["parse_limit"]}))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    assert_fixture_file(project, case)


def test_each_pattern_has_a_fixture() -> None:
    names = {c.stem for c in CASES}
    assert {
        "injection_constant_fragments",
        "injection_numbers",
        "injection_identifiers",
        "injection_branches",
    } <= names


SAFE_HELPER_APP = """import sqlite3

db = sqlite3.connect("app.db")


def page(value):
    return db.execute("SELECT id FROM users LIMIT %s" % parse_limit(value))
"""


def _app(root: Path, setting: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _database(root)
    return write_app(root, SAFE_HELPER_APP, setting)


def test_safe_helpers_from_pyproject_silence_the_cli(tmp_path: Path) -> None:
    before = run_dbheal(_app(tmp_path / "without", ""), "check", "app.py")
    assert before.returncode == 1 and "SQL_INJECTION" in before.stdout
    after = run_dbheal(_app(tmp_path / "with", 'safe-helpers = ["parse_limit"]\n'), "check")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "SQL_INJECTION" not in after.stdout


def test_a_bad_safe_helpers_setting_is_one_clear_line(tmp_path: Path) -> None:
    done = run_dbheal(_app(tmp_path, "safe-helpers = 3\n"), "check")
    assert done.returncode == 2
    assert "safe-helpers" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _many_branches(n: int) -> str:
    """A function assigning the SQL and a fragment in `n` branches, sending it after each."""
    lines = ["def f(a, n):", "    sql = 'SELECT id FROM users WHERE id = ?'", "    cond = ''"]
    for i in range(n):
        lines += [
            f"    if a == {i}:",
            f"        sql = 'SELECT id FROM users WHERE age = {i} %s'",
            "        cond = ' AND name = ?' if n else ' AND email = ?'",
            "    else:",
            f"        cond += ' AND age > {i}'",
            "    db.execute(sql % cond, [n, n])",
        ]
    return "\n".join(lines) + "\n"


def _many_fragments(n: int) -> str:
    """One statement made of `n` optional fragments: 2**n variants, of which 8 are checked."""
    names = [f"c{i}" for i in range(n)]
    lines = ["def g(a, n):"]
    lines += [f"    {c} = ' AND age > {i}' if a else ''" for i, c in enumerate(names)]
    fields = "".join("{" + c + "}" for c in names)
    lines.append(f'    db.execute(f"SELECT id FROM users WHERE 1 = 1{fields}")')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "clean"),
    [(_many_branches(3000), False), (_many_fragments(400), True)],
    ids=["3000_branches", "400_optional_fragments"],
)
def test_many_branches_do_not_stall_a_run(tmp_path: Path, text: str, clean: bool) -> None:
    header = 'import sqlite3\n\ndb = sqlite3.connect("app.db")\n'
    root = _app(tmp_path, "")
    (root / "big.py").write_text(header + text, encoding="utf-8")
    run = run_dbheal(root, "check", "--no-cache", ".")  # a hang fails by the generous timeout
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 1  # by the findings
    assert "app.py:7:" in run.stdout  # the other file's finding is still reported
    # 400 literal fragments: no injection (8 variants checked). 3000 branches: a name with more
    # values than are read counts as unknown (reported), or the file is noted as over budget.
    assert ("big.py" not in run.stdout) is clean, run.stdout[-2000:]

"""rules/parameter_mismatch.py: PARAMETER_MISMATCH, bound values that do not fit the placeholders
(issue 11, pattern 14): its fixture (fixtures/parameter_mismatch.py), and its messages compared
with what sqlite3 itself says when the same call runs, for each driver's placeholders."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import IssueType, Severity
from tests.conftest import run_dbheal
from tests.languages.python.test_parameters import SCHEMA, _database, _mismatches
from tests.rules.conftest import assert_rule_fixture


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("params")
    return Project(load_config(root, {"database": str(_database(root))}))


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("parameter_mismatch", tmp_path)


def _runtime_error(sql: str, params: object) -> str:
    """Return what sqlite3 says when `sql` runs with `params` on the fixture schema."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    try:
        conn.execute(sql, params)  # type: ignore[arg-type]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return ""


@pytest.mark.parametrize(
    ("call", "message", "sql", "params"),
    [
        (
            'db.execute("SELECT id FROM users WHERE name = ? AND email = ?", (x,))',
            "binds 1 value but the statement has 2 placeholders (?, ?)",
            "SELECT id FROM users WHERE name = ? AND email = ?",
            ("x",),
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = ?", (x, x))',
            "binds 2 values but the statement has 1 placeholder (?)",
            "SELECT id FROM users WHERE name = ?",
            ("x", "x"),
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = ?")',
            "binds no value but the statement has 1 placeholder (?)",
            "SELECT id FROM users WHERE name = ?",
            (),
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = ?2", (x,))',
            "binds 1 value but the statement numbers its placeholders up to ?2, so it takes 2",
            "SELECT id FROM users WHERE name = ?2",
            ("x",),
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = :name AND id = :id", {"nmae": x, "id": 1})',
            "no value for :name; the dict gives nmae, id (did you mean name?)",
            "SELECT id FROM users WHERE name = :name AND id = :id",
            {"nmae": "x", "id": 1},
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = :name", {})',
            "no value for :name; the dict is empty",
            "SELECT id FROM users WHERE name = :name",
            {},
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = :name AND id = ?", {"name": x})',
            "the statement mixes named (:name) and positional (?) placeholders, and a dict "
            "gives no value to ?",
            "SELECT id FROM users WHERE name = :name AND id = ?",
            {"name": "x"},
        ),
    ],
)
def test_messages_name_what_sqlite3_would_reject(
    project: Project, call: str, message: str, sql: str, params: object
) -> None:
    (issue,) = _mismatches(project, f"def f(db, x):\n    {call}\n")
    assert issue.message == message
    assert issue.severity is Severity.CRITICAL
    # The same call really fails at run time: the finding is not a guess.
    assert _runtime_error(sql, params) != ""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'db.execute("SELECT id FROM users WHERE name = %s AND email = %s", (x,))',
            "binds 1 value but the statement has 2 placeholders (%s, %s)",
        ),
        (
            'db.execute("SELECT id FROM users WHERE name = %(name)s", {"nmae": x})',
            "no value for %(name)s; the dict gives nmae (did you mean name?)",
        ),
        (
            'db.fetch("SELECT id FROM users WHERE name = $1 AND email = $2", x)',
            "binds 1 value but the statement has 2 placeholders ($1, $2)",
        ),
    ],
)
def test_placeholders_are_shown_as_the_code_writes_them(
    project: Project, call: str, message: str
) -> None:
    (issue,) = _mismatches(project, f"def f(db, x):\n    {call}\n")
    assert issue.message == message


def test_a_positional_sequence_for_named_placeholders(project: Project) -> None:
    source = 'def f(db, n):\n    db.execute("SELECT id FROM users WHERE name = :name", (n,))\n'
    (issue,) = _mismatches(project, source)
    assert issue.message == (
        "binds values by position but the statement names its placeholders (:name); "
        "pass a dict (Python 3.14's sqlite3 rejects a sequence here)"
    )


def test_executemany_names_the_row(project: Project) -> None:
    source = (
        "def f(db, a, b):\n"
        '    db.executemany("INSERT INTO users (name, email) VALUES (?, ?)", [(a, b), (a,)])\n'
    )
    (issue,) = _mismatches(project, source)
    assert issue.message == "row 2 binds 1 value but the statement has 2 placeholders (?, ?)"
    assert (issue.span.line, issue.span.column, issue.span.end_column) == (2, 78, 82)


def test_issue_points_at_the_parameters_and_keeps_the_call(project: Project) -> None:
    source = 'def f(db, x):\n    db.execute("SELECT id FROM users WHERE id = ? AND age = ?", [x])\n'
    (issue,) = _mismatches(project, source)
    line = source.splitlines()[1]
    assert line[issue.span.column - 1 : issue.span.end_column - 1] == "[x]"
    assert issue.call_span.column == line.index("db.execute") + 1


def test_its_severity_can_be_overridden(tmp_path: Path) -> None:
    db = _database(tmp_path)
    source = 'def f(db):\n    db.execute("SELECT id FROM users WHERE id = ?")\n'
    low = Project(
        load_config(tmp_path, {"database": str(db), "severity": {"parameter-mismatch": "low"}})
    )
    (issue,) = low.check_source("a.py", source).issues
    assert (issue.type, issue.severity) == (IssueType.PARAMETER_MISMATCH, Severity.LOW)


APP = """import sqlite3

db = sqlite3.connect("app.db")


def rename(user_id, name):
    db.execute("UPDATE users SET name = :name WHERE id = :id", {"nmae": name, "id": user_id})
"""


def test_the_cli_fails_on_it_as_critical(tmp_path: Path) -> None:
    _database(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.dbheal]\ndatabase = "app.db"\n', encoding="utf-8"
    )
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    done = run_dbheal(tmp_path, "check", "--fail-on", "critical", "app.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "app.py:7:64: critical PARAMETER_MISMATCH no value for :name" in done.stdout
    assert "did you mean name?" in done.stdout


def test_a_question_mark_is_an_operator_in_postgres(tmp_path: Path) -> None:
    # psycopg binds %s; `?` is PostgreSQL's jsonb "has key" operator, not a placeholder.
    pg = Project(load_config(tmp_path, {"dialect": "postgres"}))
    source = (
        "def f(db, k, x):\n"
        "    db.execute(\"SELECT id FROM docs WHERE body ? 'tags' AND id = %s\", (x,))\n"
        "    db.execute(\"SELECT id FROM docs WHERE body ? 'tags'\")\n"
        '    db.execute("SELECT id FROM docs WHERE id = %s AND owner = %s", (x,))\n'
    )
    (issue,) = _mismatches(pg, source)
    assert issue.span.line == 4
    assert issue.message == "binds 1 value but the statement has 2 placeholders (%s, %s)"


def test_two_drivers_spellings_in_one_statement_say_nothing(project: Project) -> None:
    # `%s` and `?` in one text: one of them is not a placeholder for any one driver.
    source = (
        'def f(db, x):\n    db.execute("SELECT id FROM users WHERE name = %s AND id = ?", (x,))\n'
    )
    assert _mismatches(project, source) == []


def test_a_question_mark_outside_sqlite_is_not_judged(tmp_path: Path) -> None:
    # mysql-connector's prepared cursors bind `?`; PostgreSQL reads it as an operator.
    mysql = Project(load_config(tmp_path, {"dialect": "mysql"}))
    source = 'def f(db, x):\n    db.execute("SELECT id FROM users WHERE id = ?", (x,))\n'
    assert _mismatches(mysql, source) == []

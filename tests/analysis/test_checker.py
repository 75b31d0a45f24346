"""Every string form, and code that must give nothing, checked on real SQLite files (each
rule's own cases are tests/rules/fixtures/, read the same way).

Each file of fixtures/checks/cases/ is Python code annotated with what must be found:
`# expect: TYPE token[; TYPE token]` on the line of the token, or `# expect(+N): ...` for the
line N below (inside a triple-quoted string). A line without annotation must give no issue, and
the token is the exact text the issue's span covers, so positions are checked too.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import Issue

FIXTURES = Path(__file__).parent / "fixtures" / "checks"
CASES = sorted((FIXTURES / "cases").glob("*.py"))
_EXPECT = re.compile(r"#\s*expect(?:\(([+-]\d+)\))?:\s*(.+)$")


def expected_issues(source: str) -> set[tuple[int, str, str]]:
    """Return (line, TYPE, token) for every annotation of `source`."""
    found: set[tuple[int, str, str]] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        m = _EXPECT.search(line)
        if not m:
            continue
        target = number + int(m.group(1) or 0)
        for item in m.group(2).split(";"):
            kind, token = item.strip().split(" ", 1)
            found.add((target, kind, token.strip()))
    return found


def assert_fixture_file(project: Project, case: Path) -> None:
    """Check fixture file `case` with `project` and assert it gives exactly its annotations."""
    source = case.read_text(encoding="utf-8")
    result = project.check_source(case.name, source)
    assert result.notes == ()
    assert sorted(located_issues(result.issues, source.splitlines())) == sorted(
        expected_issues(source)
    )


def database_with(path: Path, schema: str) -> Path:
    """Create the SQLite file `path` with `schema` (a script) and return its path."""
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    conn.close()
    return path


def located_issues(issues: Iterable[Issue], lines: list[str]) -> set[tuple[int, str, str]]:
    """Return (line, TYPE, token) for each issue, the token read from the source's `lines`."""
    return {
        (
            issue.span.line,
            issue.type.value,
            lines[issue.span.line - 1][issue.span.column - 1 : issue.span.end_column - 1],
        )
        for issue in issues
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("project")
    db = root / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((FIXTURES / "schema.sql").read_text(encoding="utf-8"))
    conn.close()
    return Project(load_config(root, {"database": str(db), "identifier-helpers": ["quote_ident"]}))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    source = case.read_text(encoding="utf-8")
    lines = source.splitlines()
    result = project.check_source(case.name, source)
    assert all(issue.span.line == issue.span.end_line for issue in result.issues), result.issues
    assert result.notes == ()
    assert sorted(located_issues(result.issues, lines)) == sorted(expected_issues(source))


@pytest.mark.parametrize(
    "statement",
    [
        'conn.execute("SELECT emial FROM users")',
        "conn.execute(f\"SELECT id FROM users WHERE name = '{name}'\")",
    ],
)
def test_fingerprint_survives_edits_elsewhere(project: Project, statement: str) -> None:
    body = f"def f(name):\n    {statement}\n"
    before = project.check_source("a.py", body).issues
    after = project.check_source(
        "a.py", "import os\n\n\n" + body.replace("f(name)", "f( name)")
    ).issues
    assert [i.fingerprint for i in before] == [i.fingerprint for i in after]
    assert before[0].span.line != after[0].span.line


def test_severity_override(tmp_path: Path) -> None:
    (tmp_path / "app.db").touch()
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
    conn.close()
    config = load_config(tmp_path, {"severity": {"SELECT_STAR": "high"}})
    (issue,) = Project(config).check_source("a.py", 'db.execute("SELECT * FROM t")\n').issues
    assert issue.severity.value == "high"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('await db.fetch("SELECT id FROM users WHERE name ILIKE $1", q)', []),
        ('await db.fetch("SELECT id::text FROM users WHERE id = $1", q)', []),
        ('await db.fetch("SELECT nmae FROM users WHERE name ILIKE $1", q)', ["MISSING_COLUMN"]),
        ('await db.fetch("SELECT id FROM userz WHERE name ILIKE $1", q)', ["MISSING_TABLE"]),
        ('await db.execute("SELEC id FROM users")', ["SQL_SYNTAX"]),
    ],
)
def test_postgres_dialect_is_not_judged_by_sqlite_syntax(
    tmp_path: Path, code: str, expected: list[str]
) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    config = load_config(tmp_path, {"database": str(db), "dialect": "postgres"})
    source = f"async def f(db, q):\n    {code}\n"
    found = [i.type.value for i in Project(config).check_source("a.py", source).issues]
    assert found == expected

"""Every call shape and string form of JS/TS, checked on a real SQLite file.

Each file of fixtures/ is JavaScript or TypeScript annotated with what must be found:
`// expect: TYPE token[; TYPE token]` on the line of the token. A line without an annotation must
give no issue, and the token is the exact text the issue's span covers (columns in code points),
so positions are checked too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.statement import Slot, TextPiece
from dbheal_lsp.config import load_config
from dbheal_lsp.languages.javascript.statements import reads_as_statement, starts_like_sql
from tests.analysis.test_checker import database_with, located_issues

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".js", ".ts", ".tsx"))
_EXPECT = re.compile(r"//\s*expect:\s*(.+)$")


def expected_issues(source: str) -> set[tuple[int, str, str]]:
    """Return (line, TYPE, token) for every `// expect:` annotation of `source`."""
    found: set[tuple[int, str, str]] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            for item in m.group(1).split(";"):
                kind, token = item.strip().split(" ", 1)
                found.add((number, kind, token.strip()))
    return found


def fixture_project(root: Path) -> Project:
    """A project on a real SQLite file made from fixtures/schema.sql."""
    db = database_with(root / "app.db", (FIXTURES / "schema.sql").read_text(encoding="utf-8"))
    return Project(load_config(root, {"database": str(db)}))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return fixture_project(tmp_path_factory.mktemp("js"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    source = case.read_text(encoding="utf-8")
    result = project.check_source(case.name, source)
    assert result.notes == ()
    assert sorted(located_issues(result.issues, source.splitlines())) == sorted(
        expected_issues(source)
    )


def test_the_fixtures_cover_every_shape() -> None:
    names = {c.name for c in CASES}
    assert {"calls_sqlite.js", "calls_drivers.js", "calls_tags.ts", "strings.js"} <= names
    assert {"numbers.ts", "not_sql.js", "positions.ts"} <= names


def test_calls_of_the_same_names_that_send_no_sql_are_no_statements(project: Project) -> None:
    source = (FIXTURES / "not_sql.js").read_text(encoding="utf-8")
    assert project.statements(source, "not_sql.js") == ()
    assert project.check_source("not_sql.js", source).statements == 0


def test_a_template_value_is_a_slot_and_a_bound_value_a_placeholder(project: Project) -> None:
    source = (
        "db.run(`UPDATE users SET name = ? WHERE id = ${+id}`, [name]);\n"
        "prisma.$queryRaw`SELECT id FROM users WHERE name = ${name}`;\n"
        'db.exec("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)");\n'
    )
    run, tagged, script = project.statements(source, "app.js")

    assert [type(p) for p in run.pieces] == [TextPiece, Slot]
    slot = run.slots[0]
    assert (slot.kind, slot.value.source, slot.value.numeric_cast) == ("template", "+id", True)
    assert run.parameters is not None and [p.value.source for p in run.parameters] == ["name"]
    assert run.bindings is not None and run.bindings.rows[0].count == 1
    assert tagged.literal_text == "SELECT id FROM users WHERE name = ?"
    assert tagged.parameters is not None and tagged.parameters[0].value.source == "name"
    assert script.call == "executescript" and script.is_script


def test_the_enclosing_functions_name_the_statement(project: Project) -> None:
    source = (
        "class Repo {\n  find(db) {\n    return db.all('SELECT id FROM users');\n  }\n}\n"
        "const load = (db) => db.all('SELECT id FROM users');\n"
    )
    assert [s.function for s in project.statements(source, "repo.js")] == ["Repo.find", "load"]


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("SELECT id FROM users", True),
        ("select id from users", True),
        ("  (SELECT 1)", True),
        ("-- note\nINSERT INTO t VALUES (1)", True),
        ("COMMIT", True),
        ("SELECT", False),
        ("select-box", False),
        ("Select all", False),
        ("commit", False),
        ("/users/:id", False),
    ],
)
def test_what_reads_as_sql(text: str, sql: bool) -> None:
    assert starts_like_sql(text) is sql


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        # Real statements, whatever their case: built as SQL, or in capitals.
        ("DELETE FROM cart", True),
        ("delete from cart where id = ?", True),
        ("delete from cart", True),
        ("delete from  __slot__  where id = ?", True),  # `delete from ${table} where ...`
        ("update users set name = ? where id = ?", True),
        ("update or ignore users set name = ?", True),
        ("insert into users (name) values (?)", True),
        ("insert or replace into users values (?, ?)", True),
        ("replace into users (id) values (?)", True),
        ("select id from users", True),
        ("Select id FROM users", True),
        ("with x as (select 1) select * from x", True),
        ("UPDATE the cart", True),  # capitals: a statement, judged by SQLite
        # Prose a label or a message holds.
        ("Delete from cart", False),
        ("Delete from cart?", False),  # a question mark, but not after a table name
        ("Update from server", False),
        ("update from server", False),
        ("Select from the list below", False),
        ("select from the list below", False),
        ("Insert into the form", False),
        ("insert into the form", False),
        ("update the profile", False),
    ],
)
def test_what_reads_as_sql_in_a_generic_call(text: str, sql: bool) -> None:
    """`get`, `all`, `run`... are also a map's, a router's, a translator's: their text must be
    built as the statement it starts as, and prose in sentence case is not SQL."""
    assert reads_as_statement(text, generic=True) is sql
    assert reads_as_statement(text) is starts_like_sql(text)  # `query`, `execute`: as before

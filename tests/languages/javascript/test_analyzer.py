"""JavaScript's `Analyzer` through the same `Project` as Python: a tree of JS/TS files checked
end to end, notes for what cannot be read, and the schema from DDL in JS code."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import IssueType
from tests.analysis.test_project import make_db, write

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"


def _project(root: Path, **overrides: object) -> Project:
    return Project(load_config(root, {"database": str(root / "app.db"), **overrides}))


def test_a_tree_of_js_ts_and_python_is_checked_and_node_modules_skipped(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", SCHEMA)
    write(tmp_path, "routes/a.js", "db.all('SELECT nmae FROM users');\n")
    write(tmp_path, "routes/b.tsx", "export const q = () => db.all(`SELECT id FROM userz`);\n")
    write(tmp_path, "lib/c.mjs", "await db.exec('SELECT agee FROM users');\n")
    write(tmp_path, "app.py", 'db.execute("SELECT id FROM accounts")\n')
    write(tmp_path, "node_modules/pkg/index.js", "db.all('SELECT * FROM nowhere');\n")

    result = _project(tmp_path).check_paths([tmp_path], use_cache=False)

    assert [(i.path, i.span.line, i.span.column, i.type) for i in result.issues] == [
        ("app.py", 1, 28, IssueType.MISSING_TABLE),
        ("lib/c.mjs", 1, 23, IssueType.MISSING_COLUMN),
        ("routes/a.js", 1, 16, IssueType.MISSING_COLUMN),
        ("routes/b.tsx", 1, 47, IssueType.MISSING_TABLE),
    ]
    assert result.files_checked == 4


def test_a_half_typed_ts_file_is_a_one_line_note(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", SCHEMA)
    text = "export async function f(db: Db) {\n  await db.all(`SELECT id FROM users WHERE\n"

    result = _project(tmp_path).check_source("routes/f.ts", text)

    assert result.issues == ()
    (note,) = result.notes
    assert note.message.startswith("not checked: TypeScript syntax error: ")
    assert note.message.endswith(f"(line {note.line})") and note.line is not None


def test_the_schema_comes_from_the_js_code_without_a_database(tmp_path: Path) -> None:
    write(tmp_path, "db.js", "db.exec(`CREATE TABLE users (id INTEGER, name TEXT)`);\n")
    write(
        tmp_path, "q.ts", "db.all('SELECT name FROM users');\ndb.all('SELECT nmae FROM users');\n"
    )

    result = Project(load_config(tmp_path)).check_paths([tmp_path], use_cache=False)

    assert [(i.path, i.span.line, i.type) for i in result.issues] == [
        ("q.ts", 2, IssueType.MISSING_COLUMN)
    ]


def test_a_check_past_its_budget_says_where_it_stopped(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", SCHEMA)
    text = "db.all('SELECT nmae FROM users');\n" * 3

    result = _project(tmp_path).check_source("a.js", text, budget=0)

    assert result.issues == ()
    assert [n.message for n in result.notes] == [
        "not checked: over its 0 s budget from line 1 on (0 of 3 statements checked)"
    ]


def test_configured_call_names_are_read_too(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", SCHEMA)
    text = "repo.fetchRows('SELECT nmae FROM users');\n"
    project = _project(tmp_path, **{"extra-calls": ["fetchRows"]})

    assert [i.type for i in project.check_source("a.js", text).issues] == [IssueType.MISSING_COLUMN]
    assert "fetchRows" in project.analyzers["javascript"].reads_calls()
    assert _project(tmp_path).check_source("a.js", text).issues == ()


def test_a_file_without_sql_is_not_parsed(tmp_path: Path) -> None:
    make_db(tmp_path / "app.db", SCHEMA)
    analyzer = _project(tmp_path).analyzers["javascript"]
    assert not analyzer.might_contain_sql("const x = cache.get('a');\n")
    assert not analyzer.might_contain_sql("// SELECT id FROM users\n")
    assert analyzer.might_contain_sql("db.query<User>(`SELECT id FROM users`)\n")

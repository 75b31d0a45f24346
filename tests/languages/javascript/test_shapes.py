"""`[tool.dbheal.calls]` and `[tool.dbheal.databases]` in JS/TS files, as for Python: helpers
of their own shape, and receivers (or files) that use another database; on real SQLite files."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import IssueType
from tests.analysis.test_project import make_db, write

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
CACHE = "CREATE TABLE entries (key TEXT PRIMARY KEY, value TEXT);\n"


def _project(root: Path, **settings: object) -> Project:
    make_db(root / "app.db", SCHEMA)
    make_db(root / "cache.db", CACHE)
    return Project(load_config(root, {"database": str(root / "app.db"), **settings}))


def _found(project: Project, path: str, text: str) -> list[tuple[int, str, IssueType]]:
    """(line, the text from the issue's column on, type) of each issue of `text`."""
    result = project.check_source(path, text)
    assert result.notes == ()
    lines = text.splitlines()
    return [
        (i.span.line, lines[i.span.line - 1][i.span.column - 1 :], i.type) for i in result.issues
    ]


def test_a_helper_with_its_sql_in_another_argument(tmp_path: Path) -> None:
    project = _project(tmp_path, calls={"runIn": {"sql": 1}, "tx": {"sql": 1, "params": 3}})
    text = (
        "await runIn(db, 'SELECT nmae FROM users WHERE id = ?', [id]);\n"
        "await runIn(db, 'SELECT name FROM users WHERE id = ?', [id, 2]);\n"
        "await tx(db, 'UPDATE users SET name = ? WHERE id = ?', log, [name, id]);\n"
        "await runIn(db, 'Not SQL at all');\n"
    )
    assert _found(project, "a.js", text) == [
        (1, "nmae FROM users WHERE id = ?', [id]);", IssueType.MISSING_COLUMN),
        (2, "[id, 2]);", IssueType.PARAMETER_MISMATCH),
    ]


def test_a_helper_with_a_list_of_statements(tmp_path: Path) -> None:
    project = _project(tmp_path, calls={"batch": {"statements": 0}})
    text = (
        "const steps = [\n"
        "  'DELETE FROM userz',\n"
        "  ['UPDATE users SET nmae = ? WHERE id = ?', [name, id]],\n"
        "];\n"
        "db.batch(steps);\n"
        "db.batch(['SELECT id FROM users', ['SELECT id FROM users WHERE id = ?', []]]);\n"
    )
    assert _found(project, "a.ts", text) == [
        (2, "userz',", IssueType.MISSING_TABLE),
        (3, "nmae = ? WHERE id = ?', [name, id]],", IssueType.MISSING_COLUMN),
        (6, "[]]]);", IssueType.PARAMETER_MISMATCH),
    ]


def test_a_shape_wins_over_a_recognised_name(tmp_path: Path) -> None:
    """A wrapper's own `query(conn, sql)`: its first argument is not SQL."""
    project = _project(tmp_path, calls={"query": {"sql": 1, "params": 2}})
    text = "query(conn, 'SELECT id FROM userz', []);\n"
    assert _found(project, "a.js", text) == [(1, "userz', []);", IssueType.MISSING_TABLE)]


def test_receivers_and_files_mapped_to_another_database(tmp_path: Path) -> None:
    databases = {"cache.db": ["cacheDb", "Store.conn", "jobs/*.js"]}
    project = _project(tmp_path, databases=databases)
    text = (
        "cacheDb.prepare('SELECT value FROM entries WHERE key = ?').get(key);\n"
        "db.all('SELECT value FROM entries');\n"
        "class Store {\n"
        "  read(key) { return this.conn.get('SELECT valu FROM entries WHERE key = ?', [key]); }\n"
        "}\n"
    )
    found = project.check_source("web/a.js", text).issues
    assert [(i.span.line, i.type) for i in found] == [
        (2, IssueType.MISSING_TABLE),  # the main database has no entries
        (4, IssueType.MISSING_COLUMN),
    ]
    assert "(in cache.db)" in found[1].message
    write(tmp_path, "jobs/sweep.js", "db.run('DELETE FROM entries WHERE key = ?', [k]);\n")
    result = project.check_paths([tmp_path / "jobs"], use_cache=False)
    assert result.issues == ()

"""Projects the fix engine's tests work on: a small one whose sessions.user_id (TEXT) the code
compares with an int, the same at a real size, and what their databases hold."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.project import Project, load_project

BOTH = """import sqlite3

db = sqlite3.connect("app.db")


def tokens(user_id):
    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))
"""


def columns(db: Path, table: str) -> dict[str, str]:
    """Return the declared type of each column of `table`."""
    with sqlite3.connect(db) as conn:
        return {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}


def names(db: Path, kind: str) -> set[str]:
    """Return the names of the objects of `kind` (table, index, view, trigger) of `db`."""
    with sqlite3.connect(db) as conn:
        return {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
        }


def types(project: Project) -> list[str]:
    """Return the sorted issue types a check of the whole project finds."""
    return sorted(i.type.value for i in project.check_paths([project.config.root]).issues)


def small_project(tmp_path: Path, code: str) -> Project:
    """Return a project of `code` on sessions(id, user_id TEXT, token), two rows, an index."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);"
            "CREATE INDEX idx_sessions_user_id ON sessions(user_id);"
            "INSERT INTO sessions VALUES ('a', '1', 't1'), ('b', '22', 't2');"
        )
    conn.close()
    (root / "app.py").write_text(code)
    return load_project(root)


def big_project(tmp_path: Path, rows: int, journal_mode: str) -> Project:
    """A project whose sessions.user_id (TEXT, `rows` rows, an index, a trigger) the code
    compares with an int: the type change heal makes is big enough to spill the page cache."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    conn = sqlite3.connect(root / "app.db", isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.executescript(
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);"
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);"
        "CREATE TRIGGER sessions_audit AFTER DELETE ON sessions "
        "BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;"
    )
    conn.execute(
        "INSERT INTO sessions (user_id, token) WITH RECURSIVE c(i) AS "
        f"(SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows}) "
        "SELECT CAST(i % 997 AS TEXT), 'token-' || i FROM c"
    )
    conn.execute("CREATE INDEX idx_sessions_user_id ON sessions(user_id)")
    conn.close()
    (root / "app.py").write_text(BOTH)
    return load_project(root)


def state_of(db: Path) -> tuple[str, list[tuple[object, ...]]]:
    """Return sessions.user_id's declared type and every row (values and storage classes)."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        declared = conn.execute(
            "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT id, CAST(user_id AS INTEGER), typeof(user_id), token FROM sessions ORDER BY id"
        ).fetchall()
    conn.close()
    return str(declared), rows

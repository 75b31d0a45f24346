"""What the JS/TS code fix tests share: a real Project on a real SQLite file, and the fixture
pairs of `fixtures/codefix/`.

`<case>.before.js` (or `.ts`) is checked by the Project, the issue its first line names
(`// dbheal-fix: TYPE`) is fixed, and the result must be `<case>.after.js` exactly. A case
without an after file must get no fix at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.text_edits import apply_edits
from dbheal_lsp.config import load_config
from dbheal_lsp.languages.javascript.codefix import code_fixes
from dbheal_lsp.model import CodeFix, Issue, IssueType

FIXTURES = Path(__file__).parent / "fixtures" / "codefix"
CASES = sorted(p.name.replace(".before", "") for p in FIXTURES.glob("*.before.*"))

SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new'
);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_users_name ON users(name);
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
"""


def make_project(root: Path) -> Project:
    """A project whose database is a real SQLite file made from SCHEMA."""
    conn = sqlite3.connect(root / "app.db")
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()
    return Project(load_config(root, {"database": str(root / "app.db"), "cache": False}))


def issues_of(project: Project, path: str, source: str, kind: IssueType) -> list[Issue]:
    """The issues of type `kind` a real check of `source` reports."""
    return [i for i in project.check_source(path, source).issues if i.type is kind]


def fixed(source: str, fixes: tuple[CodeFix, ...]) -> str:
    """`source` with the one fix of `fixes` applied."""
    assert len(fixes) == 1, fixes
    return apply_edits(source, fixes[0].edits)


def fix_of(project: Project, path: str, source: str, kind: IssueType) -> tuple[CodeFix, ...]:
    """The fixes of the first issue of type `kind` in `source`."""
    issues = issues_of(project, path, source, kind)
    assert issues, f"no {kind.value} in {source!r}"
    return code_fixes(source, issues[0], project)


def case_texts(case: str) -> tuple[str, str, str | None, IssueType]:
    """A fixture case: its path in the project, its text, the expected text (None: no fix)
    and the issue type its first line names."""
    stem, _, ext = case.rpartition(".")
    before = (FIXTURES / f"{stem}.before.{ext}").read_text(encoding="utf-8")
    after_file = FIXTURES / f"{stem}.after.{ext}"
    after = after_file.read_text(encoding="utf-8") if after_file.exists() else None
    first = before.splitlines()[0]
    assert first.startswith("// dbheal-fix: "), first
    return f"src/{stem}.{ext}", before, after, IssueType(first.removeprefix("// dbheal-fix: "))

"""What the code fix tests share: a real Project, and the fixture pairs in `fixtures/`.

`<case>.before.py` is checked by a real Project against a real SQLite file, the issue its first
line names (`# dbheal-fix: TYPE [style=...]`) is fixed, and the result must be `<case>.after.py`
exactly. A case without an `.after.py` must get no fix at all.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.text_edits import apply_edits
from dbheal_lsp.config import load_config
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.model import CodeFix, Issue, IssueType

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.name.removesuffix(".before.py") for p in FIXTURES.glob("*.before.py"))
PATH = "app/case.py"

SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new',
    total_cents INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_users_name ON users(name);
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose database is a real SQLite file made from SCHEMA."""
    root = tmp_path_factory.mktemp("project")
    conn = sqlite3.connect(root / "app.db")
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()
    return Project(load_config(root, {"database": str(root / "app.db"), "cache": False}))


def header(text: str) -> tuple[IssueType, dict[str, str]]:
    """Return the issue type and options named by a fixture's first line."""
    first = text.splitlines()[0]
    assert first.startswith("# dbheal-fix: "), first
    kind, *options = first.removeprefix("# dbheal-fix: ").split()
    return IssueType(kind), dict(o.split("=", 1) for o in options)


def issues_of(project: Project, source: str, kind: IssueType) -> list[Issue]:
    """Return the issues of type `kind` a real check of `source` reports."""
    return [i for i in project.check_source(PATH, source).issues if i.type is kind]


def fixed(source: str, fixes: tuple[CodeFix, ...]) -> str:
    """Return `source` with the one fix of `fixes` applied."""
    assert len(fixes) == 1, fixes
    return apply_edits(source, fixes[0].edits)


def check_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    """Fix every issue a fixture's first line names; compare with its `.after.py`."""
    caplog.set_level(logging.DEBUG, logger="dbheal_lsp.languages.python.codefix")
    before = (FIXTURES / f"{case}.before.py").read_text(encoding="utf-8")
    after_file = FIXTURES / f"{case}.after.py"
    kind, options = header(before)
    issues = issues_of(project, before, kind)
    assert issues, f"the check reports no {kind.value} in {case}"

    results = [code_fixes(before, issue, project, style=options.get("style")) for issue in issues]

    # No case, fixed or not, may end in the catch-all: "no fix" must be a decision.
    assert not caplog.records
    if not after_file.exists():
        assert results == [()] * len(issues)
        return
    after = after_file.read_text(encoding="utf-8")
    # Every issue of the statement gets the same fix (parameterize binds all slots at once).
    for fixes in results:
        assert fixed(before, fixes) == after
    assert len({fixes[0].id for fixes in results}) == 1
    fix = results[0][0]
    assert fix.path == PATH
    assert fix.source_hash == hashlib.blake2b(before.encode(), digest_size=16).hexdigest()
    assert len(fix.edits) == 1
    # The fix did what it says: the issue is gone from the fixed file.
    assert not [i for i in issues_of(project, after, kind) if i.message == issues[0].message]

"""The bundled demos: `dbheal check` in examples/shop and examples/accounts-node finds exactly
what each one's EXPECTED.md lists.

EXPECTED.md is a demo's contract: every planted issue with its file, line, columns, type and
severity. Anything reported that is not listed is a false alarm; anything listed and not
reported is a miss.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHOP, copy_shop

_ROW = re.compile(
    r"^\| (\d+) \| ([^|]+) \| (\d+) \| (\d+) \| (\d+) \| `([^`]+)` \| (\w+) \| (\w+) \|"
)


NODE_DEMO = SHOP.parent / "accounts-node"


def expected_rows(demo: Path = SHOP) -> set[tuple[str, int, int, int, str, str]]:
    """Return (path, line, column, end_column, type, severity) for each planted issue."""
    rows = set()
    for line in (demo / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            _, path, lno, col, end, _token, kind, severity = m.groups()
            rows.add((path.strip(), int(lno), int(col), int(end), kind, severity))
    return rows


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo with its database built by its own make_db.py (read only here)."""
    return copy_shop(tmp_path_factory.mktemp("demo"))


def run_check(shop: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "check", ".", *args],
        cwd=shop,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


def test_demo_finds_exactly_the_planted_issues(shop: Path) -> None:
    proc = run_check(shop, "--format", "json", "--no-cache")
    assert proc.returncode == 1, proc.stderr
    found = {
        (i["path"], i["line"], i["column"], i["end_column"], i["type"], i["severity"])
        for i in json.loads(proc.stdout)
    }
    assert sorted(found) == sorted(expected_rows())


def test_demo_covers_every_issue_type(shop: Path) -> None:
    from dbheal_lsp.model import IssueType

    assert {row[4] for row in expected_rows()} == {t.value for t in IssueType}


def test_demo_text_output_names_origins_and_suggestions(shop: Path) -> None:
    proc = run_check(shop, "--color", "never")
    out = proc.stdout
    assert "app/routes/auth.py:87:65: medium TYPE_MISMATCH sessions.user_id is TEXT" in out
    assert "defined in migrations/004_user_preferences.sql:4" in out
    assert "did you mean 'category'?" in out
    assert out.rstrip().splitlines()[-1].startswith("Found 26 issues (12 critical, 7 high")


# --- the Node demo: the original design's own two cases ------------------------------------------


@pytest.fixture(scope="module")
def node_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/accounts-node with its database built by its own make_db.py."""
    copy = tmp_path_factory.mktemp("node") / "accounts-node"
    shutil.copytree(NODE_DEMO, copy, ignore=shutil.ignore_patterns("*.db", ".dbheal"))
    subprocess.run([sys.executable, str(copy / "make_db.py")], check=True, capture_output=True)
    return copy


def _found(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert proc.returncode == 1, proc.stderr
    found: list[dict[str, object]] = json.loads(proc.stdout)
    return found


def test_node_demo_finds_exactly_the_planted_issues(node_demo: Path) -> None:
    found = _found(run_check(node_demo, "--format", "json", "--no-cache"))
    rows = {
        (i["path"], i["line"], i["column"], i["end_column"], i["type"], i["severity"])
        for i in found
    }
    assert sorted(rows) == sorted(expected_rows(NODE_DEMO))  # type: ignore[type-var]


def test_node_demo_reports_the_design_cases_at_their_tokens(node_demo: Path) -> None:
    found = _found(run_check(node_demo, "--format", "json", "--no-cache"))

    def token(issue: dict[str, object]) -> str:
        text = (node_demo / str(issue["path"])).read_text(encoding="utf-8")
        line = text.splitlines()[int(str(issue["line"])) - 1]
        return line[int(str(issue["column"])) - 1 : int(str(issue["end_column"])) - 1]

    (cast,) = [i for i in found if i["type"] == "TYPE_MISMATCH"]
    assert cast["path"] == "routes/auth.js"
    assert token(cast) == "parseInt(userId)"
    assert (cast["table"], cast["column_name"]) == ("sessions", "user_id")
    assert (cast["db_type"], cast["code_type"], cast["helper"]) == ("TEXT", "INTEGER", "parseInt")
    (missing,) = [i for i in found if i["type"] == "MISSING_TABLE"]
    assert missing["path"] == "routes/profile.js"
    assert token(missing) == "user_preferences"
    assert missing["origin"] == "migrations/004_user_preferences.sql:3"
    # The template literal's `${parseInt(...)}` holds a number: no injection is reported.
    assert not [i for i in found if i["type"] == "SQL_INJECTION"]


def test_node_demo_text_output_names_the_migration(node_demo: Path) -> None:
    out = run_check(node_demo, "--color", "never").stdout
    assert "routes/auth.js:39:47: medium TYPE_MISMATCH sessions.user_id is TEXT" in out
    assert "defined in migrations/004_user_preferences.sql:3" in out
    assert out.rstrip().splitlines()[-1].startswith("Found 5 issues (1 critical, 1 high")


def test_node_demo_heal_heals_both_design_cases(tmp_path: Path) -> None:
    """`dbheal heal --yes` creates user_preferences from migration 004 and, since changing
    sessions.user_id would break the `String(user.id)` insert, removes the `parseInt` cast by
    binding userId instead; the file is backed up and `dbheal check` no longer reports either."""
    import sqlite3

    copy = tmp_path / "accounts-node"
    shutil.copytree(NODE_DEMO, copy, ignore=shutil.ignore_patterns("*.db", ".dbheal"))
    subprocess.run([sys.executable, str(copy / "make_db.py")], check=True, capture_output=True)
    healed = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "heal", "--yes"],
        cwd=copy,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert "Healed 2 of 2 listed (1 by a code fix instead of a type change)." in healed.stdout

    auth = (copy / "routes" / "auth.js").read_text(encoding="utf-8")
    assert "    `SELECT * FROM sessions WHERE user_id = ?`, [userId]\n" in auth
    assert "parseInt" not in auth
    assert (NODE_DEMO / "routes" / "auth.js").read_text(encoding="utf-8") in [
        b.read_text(encoding="utf-8")
        for b in (copy / ".dbheal" / "backups").glob("*/files/routes/auth.js")
    ]
    with sqlite3.connect(copy / "accounts.db") as db:
        cols = [row[1] for row in db.execute("PRAGMA table_info(user_preferences)")]
        user_id_type = [
            r[2] for r in db.execute("PRAGMA table_info(sessions)") if r[1] == "user_id"
        ]
    assert cols == ["user_id", "theme", "notifications"]
    assert user_id_type == ["TEXT"]  # the schema change was refused, not forced

    after = json.loads(run_check(copy, "--format", "json", "--no-cache").stdout)
    kinds = {(i["path"], i["type"]) for i in after}
    assert kinds == {("routes/auth.js", "SELECT_STAR"), ("routes/profile.js", "SELECT_STAR")}

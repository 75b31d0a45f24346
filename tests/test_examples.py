"""The bundled demo: `dbheal check examples/shop` finds exactly what EXPECTED.md lists.

EXPECTED.md is the demo's contract: every planted issue with its file, line, columns, type and
severity. Anything reported that is not listed is a false alarm; anything listed and not
reported is a miss.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHOP, copy_shop

_ROW = re.compile(
    r"^\| (\d+) \| ([^|]+) \| (\d+) \| (\d+) \| (\d+) \| `([^`]+)` \| (\w+) \| (\w+) \|"
)


def expected_rows() -> set[tuple[str, int, int, int, str, str]]:
    """Return (path, line, column, end_column, type, severity) for each planted issue."""
    rows = set()
    for line in (SHOP / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
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

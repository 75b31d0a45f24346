"""False alarms of real applications (issue 11): upgrade code, clean-up queries, messages.

Each fixture of fixtures/accuracy/ (upgrade_*.py, messages_*.py) is Python code annotated like
the check cases: `# expect: TYPE token[; TYPE token]` on the token's line, nothing on a line
that must give no finding. Every fixture is checked by the real `dbheal check` command, against
a real SQLite file holding today's schema (upgrade_schema.sql), or, for upgrade_code_schema.py,
with no database and no migrations at all (the schema is the CREATE statements in the code).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.analysis.test_checker import expected_issues

FIXTURES = Path(__file__).parent / "fixtures" / "accuracy"
CASES = sorted([*FIXTURES.glob("upgrade_*.py"), *FIXTURES.glob("messages_*.py")])
# Checked without a database: the code's own DDL is its schema.
NO_DATABASE = {"upgrade_code_schema"}


def run_check(project: Path, target: str, database: Path | None) -> list[dict[str, Any]]:
    """Run `dbheal check --format json` in `project` and return its findings."""
    command = [sys.executable, "-m", "dbheal_lsp", "check", "--format", "json", "--no-cache"]
    if database is not None:
        command += ["--database", str(database)]
    done = subprocess.run(
        [*command, target], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def check_fixture(tmp_path: Path, case: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Copy `case` into a fresh project, check it, and return its findings and lines."""
    shutil.copy(case, tmp_path / case.name)
    database = None
    if case.stem not in NO_DATABASE:
        database = tmp_path / "app.db"
        with sqlite3.connect(database) as conn:
            conn.executescript((FIXTURES / "upgrade_schema.sql").read_text(encoding="utf-8"))
        conn.close()
    return run_check(tmp_path, case.name, database), case.read_text("utf-8").splitlines()


def located(findings: list[dict[str, Any]], lines: list[str]) -> set[tuple[int, str, str]]:
    """Return (line, TYPE, token) of each finding, the token being the text its span covers."""
    actual: set[tuple[int, str, str]] = set()
    for f in findings:
        assert f["line"] == f["end_line"], f
        token = lines[f["line"] - 1][f["column"] - 1 : f["end_column"] - 1]
        actual.add((f["line"], f["type"], token))
    return actual


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_fixture_gives_exactly_the_expected_issues(tmp_path: Path, case: Path) -> None:
    findings, lines = check_fixture(tmp_path, case)
    assert sorted(located(findings, lines)) == sorted(expected_issues("\n".join(lines)))
    for f in findings:
        message = f["message"]
        # Internal names and empty values never reach a user.
        assert "__dbheal" not in message, f
        assert "  " not in message and " ()" not in message, f
        # Already-applied DDL is not a syntax error (pattern 10).
        if f["type"] == "SQL_SYNTAX":
            assert "already exists" not in message and "duplicate column" not in message, f


def test_upgrade_code_passes_fail_on_critical(tmp_path: Path) -> None:
    """The first CI run on an application with years of upgrade code does not fail on it."""
    source = (FIXTURES / "upgrade_probes.py").read_text("utf-8")
    upgrade_only = source.split("def still_defects")[0]
    (tmp_path / "upgrade.py").write_text(upgrade_only, encoding="utf-8")
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as conn:
        conn.executescript((FIXTURES / "upgrade_schema.sql").read_text(encoding="utf-8"))
    conn.close()
    command = [sys.executable, "-m", "dbheal_lsp", "check", "--no-cache", "--fail-on", "low"]
    done = subprocess.run(
        [*command, "--database", str(database), "upgrade.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No issues found" in done.stdout

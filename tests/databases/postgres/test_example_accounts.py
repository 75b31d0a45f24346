"""examples/accounts-pg against a real server: `load_db.py` applies migrations 001-003, and
`dbheal check` finds exactly what its EXPECTED.md lists, online and offline (pglast)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHOP, run_dbheal
from tests.test_examples import expected_rows

DEMO = SHOP.parent / "accounts-pg"
# What needs no server: syntax and names (pglast and the migrations), and what the code shows.
OFFLINE = frozenset(
    {"MISSING_COLUMN", "SQL_SYNTAX", "SELECT_STAR", "PARAMETER_MISMATCH", "SQL_INJECTION"}
    | {"DYNAMIC_IDENTIFIER"}
)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "accounts-pg"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".dbheal", "__pycache__"))
    return copy


def _rows(stdout: str) -> list[tuple[str, int, int, int, str, str]]:
    return sorted(
        (i["path"], i["line"], i["column"], i["end_column"], i["type"], i["severity"])
        for i in json.loads(stdout)
    )


def test_the_demo_finds_exactly_the_planted_issues_on_the_server(
    pg_url: str, tmp_path: Path
) -> None:
    demo = _copy(tmp_path)
    subprocess.run([sys.executable, "load_db.py", pg_url], cwd=demo, check=True, timeout=60)
    run = run_dbheal(demo, "check", "--database", pg_url, "--format", "json", "--no-cache")
    assert run.returncode == 1, run.stderr
    assert _rows(run.stdout) == sorted(expected_rows(DEMO))
    from dbheal_lsp.model import IssueType

    assert {row[4] for row in expected_rows(DEMO)} == {t.value for t in IssueType}


def test_the_demo_without_a_server_keeps_the_syntax_and_name_findings(tmp_path: Path) -> None:
    demo = _copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "check", "--format", "json", "--no-cache"],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert _rows(run.stdout) == sorted(r for r in expected_rows(DEMO) if r[4] in OFFLINE)

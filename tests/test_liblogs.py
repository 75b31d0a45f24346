"""No library's log lines reach the user: `dbheal check` on SQL that sqlglot cannot read fully
(it logs "contains unsupported syntax. Falling back to parsing as a 'Command'" through the
`sqlglot` logger) prints its report and nothing on standard error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.projects import HEADER, make_project
from tests.conftest import run_dbheal

# A trigger body: SQLite prepares it, sqlglot falls back to a Command and logs a warning.
TRIGGER = HEADER + (
    'conn.execute("CREATE TRIGGER t AFTER INSERT ON users BEGIN '
    "UPDATE users SET name = 'x' WHERE id = new.id; END\")\n"
)


@pytest.mark.parametrize("output", ["text", "json"])
def test_check_prints_no_library_warning_on_stderr(tmp_path: Path, output: str) -> None:
    root = make_project(tmp_path / "proj", {"app/triggers.py": TRIGGER})

    done = run_dbheal(root, "check", "--no-cache", "--format", output)

    assert done.stderr == ""
    assert done.returncode == 0
    if output == "text":
        assert "1 statement checked" in done.stdout

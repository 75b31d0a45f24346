"""rules/sql_syntax.py: SQL_SYNTAX: SQL that SQLite rejects, on its fixture (fixtures/sql_syntax.py)."""

from __future__ import annotations

from pathlib import Path

from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("sql_syntax", tmp_path)

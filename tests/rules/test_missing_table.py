"""rules/missing_table.py: MISSING_TABLE: a table the database does not have, on its fixture (fixtures/missing_table.py)."""

from __future__ import annotations

from pathlib import Path

from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("missing_table", tmp_path)

"""rules/missing_column.py: MISSING_COLUMN: a column the table does not have, on its fixture (fixtures/missing_column.py)."""

from __future__ import annotations

from pathlib import Path

from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("missing_column", tmp_path)

"""rules/missing_index.py: MISSING_INDEX: a filter or join no index serves, on its fixture (fixtures/missing_index.py)."""

from __future__ import annotations

from pathlib import Path

from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("missing_index", tmp_path)

"""rules/schema_drift.py: SCHEMA_DRIFT seen from queries: a value meets a column whose type drifted, on its fixture (fixtures/schema_drift.py)."""

from __future__ import annotations

from pathlib import Path

from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("schema_drift", tmp_path)

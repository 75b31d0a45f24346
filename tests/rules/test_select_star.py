"""rules/select_star.py: SELECT_STAR, on its fixture (fixtures/select_star.py), and what its
message says of a table the code interpolates."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.test_upgrade_code import FIXTURES, check_fixture
from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("select_star", tmp_path)


def test_select_star_of_an_interpolated_table_says_so(tmp_path: Path) -> None:
    findings, _ = check_fixture(tmp_path, FIXTURES / "messages_stand_ins.py")
    stars = sorted(
        (f["line"], f["message"], f["table"]) for f in findings if f["type"] == "SELECT_STAR"
    )
    assert [(message, table) for _, message, table in stars] == [
        (
            "SELECT * returns every column of an interpolated table; name the columns the "
            "code uses",
            None,
        ),
        (
            "SELECT * returns every column of an interpolated table; name the columns the "
            "code uses",
            None,
        ),
        (
            "SELECT * returns every column of users, an interpolated table; name the columns "
            "the code uses",
            None,
        ),
        (
            "SELECT * returns every column of an interpolated table; name the columns the "
            "code uses",
            None,
        ),
    ]

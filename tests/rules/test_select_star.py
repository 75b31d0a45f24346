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


def test_a_star_of_an_interpolated_table_says_so_in_every_statement_it_is_part_of(
    tmp_path: Path,
) -> None:
    # beets' `SELECT {table}.* ...` is also the subquery of two other statements, which read
    # other tables: one finding at its star, not one per message.
    source = (
        "import sqlite3\n"
        "db = sqlite3.connect('app.db')\n"
        "def fetch(table, where):\n"
        "    sql = f'SELECT {table}.* FROM {table} WHERE id > 0'\n"
        "    flex = f'SELECT * FROM users WHERE id IN (SELECT id FROM ({sql}))'\n"
        "    return db.execute(sql), db.execute(flex)\n"
    )
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    path = source_dir / "fetch.py"
    path.write_text(source, encoding="utf-8")
    findings, _ = check_fixture(tmp_path, path)
    stars = sorted(
        (f["line"], f["column"], f["message"]) for f in findings if f["type"] == "SELECT_STAR"
    )
    assert stars == [
        (
            4,
            21,
            "SELECT * returns every column of an interpolated table; name the columns the code uses",
        ),
        (
            5,
            21,
            "SELECT * returns every column of users, an interpolated table; name the columns the "
            "code uses",
        ),
    ]

"""rules/_issue.py: how an issue is built from a statement's facts, and the look-ups its
messages share (a name's place in the SQL, did-you-mean, stand-in names spelled out)."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.rules._issue import find_name, without_stand_ins


def test_did_you_mean(project: Project) -> None:
    source = 'conn.execute("SELECT emial FROM users")\nconn.execute("SELECT id FROM user")\n'
    column, table = project.check_source("a.py", source).issues
    assert column.suggestion == "email" and "did you mean 'email'" in column.message
    assert table.suggestion == "users"


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("no such table: __dbheal_0", "no such table: an interpolated name"),
        ("no such column: :__dbheal_12 in users", "no such column: an interpolated name in users"),
        ("no such table: orders___dbheal_2", "no such table: an interpolated name"),
        (
            "no such column: __dbheal_1.__dbheal_2",
            "no such column: an interpolated name.an interpolated name",
        ),
        ("no such table: orders", "no such table: orders"),
    ],
)
def test_messages_never_show_a_stand_in_name(message: str, shown: str) -> None:
    assert without_stand_ins(message) == shown


def test_a_name_is_found_as_a_whole_word_outside_string_literals() -> None:
    sql = "SELECT 'users', users_id, o.users FROM users WHERE users.id = 1"
    start, end = find_name(sql, "USERS")
    assert (start, end) == (sql.index("FROM users") + 5, sql.index("FROM users") + 10)
    assert find_name(sql, "users", end)[0] == sql.index("users.id")
    # Only quoted: found in the quotes.
    quoted = 'SELECT id FROM "users"'
    assert find_name(quoted, "users") == (16, 21)
    # A name not in the text: the whole statement, without its surrounding blanks.
    assert find_name("  SELECT 1  ", "nothing") == (2, 10)

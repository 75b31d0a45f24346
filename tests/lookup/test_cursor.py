"""lookup/cursor.py: finding the statement and the SQL offset under the cursor: f-strings,
variables, non-ASCII lines, half-typed files, scripts, and no request ever raising.

The shop of conftest.py: a real SQLite file and migrations under `tmp_path`.
"""

from __future__ import annotations

import functools

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.lookup import Completion, completions, hover_markdown, token_at
from dbheal_lsp.model import Span
from tests.lookup.conftest import (
    ORDERS_COLUMNS,
    USERS_COLUMNS,
    complete,
    cursor,
    end_of,
    hover,
    labels,
    module,
    token,
)


def test_hover_in_an_fstring_query(project: Project) -> None:
    source = module('    db.execute(f"SELECT name FROM users WHERE id = {uid} AND age > 3")\n')
    assert token(project, source, "name").table == "users"
    text = hover(project, source, "age")
    assert "`users.age` — INTEGER" in text
    assert "Defined in migrations/003_users_age.sql:1" in text
    # The interpolated expression is Python, not SQL.
    assert token_at(project, "app/x.py", source, *cursor(source, "{uid}", 1)) is None


def test_hover_after_non_ascii_text_on_the_line(project: Project) -> None:
    source = module('    label = "café ☕ 𝄞"; rows = db.execute("SELECT email FROM users")\n')
    found = token(project, source, "email", 2)
    line, column = cursor(source, "email")
    assert found.span == Span(line, column, line, column + 5)
    assert (found.name, found.table) == ("email", "users")
    assert token(project, source, "users").span.column == cursor(source, "users")[1]


def test_hover_in_a_query_held_in_a_variable(project: Project) -> None:
    source = module(
        '    sql = "SELECT name FROM users WHERE id = ?"\n    db.execute(sql, (uid,))\n'
    )
    assert token(project, source, "name").table == "users"


def test_no_hover_outside_sql(project: Project) -> None:
    source = module(
        '    note = "SELECT name FROM users"\n'
        "    db.execute(\"SELECT name FROM users WHERE status = 'active' -- users\")\n"
    )
    path = "app/x.py"
    for marker, delta, nth in [
        ("name FROM", 0, 0),  # a string no database call receives
        ("db.execute", 0, 0),  # Python code
        ("execute", 2, 0),
        ('("SELECT', 0, 0),  # the opening parenthesis
        ("SELECT", 2, 1),  # a keyword
        ("active", 1, 0),  # a SQL string literal
        ("-- users", 4, 0),  # a SQL comment
        ("uid", 0, 0),
    ]:
        position = cursor(source, marker, delta, nth)
        assert token_at(project, path, source, *position) is None, marker
    assert token_at(project, path, source, 999, 1) is None
    assert token_at(project, path, source, 0, 0) is None


def test_completion_in_a_half_typed_file(project: Project) -> None:
    # The string and the call are not closed: the file is not valid Python.
    source = module('    db.execute("SELECT * FROM ')
    items = complete(project, source, end_of(source))
    assert labels(items, "table") == ["orders", "users", "audit_log"]
    # Code after the cursor's line is kept when the repaired line fits with it.
    source = module('    rows = db.execute("SELECT u. FROM users u\n    return None\n\n\nX = 1\n')
    items = complete(project, source, cursor(source, "u. FROM", 2))
    assert [c.label for c in items] == USERS_COLUMNS
    # A call whose arguments go on: only the string needs closing.
    source = module('    db.execute(\n        "SELECT * FROM orders WHERE \n    )\n')
    items = complete(project, source, cursor(source, "WHERE ", 6))
    assert labels(items, "column") == ORDERS_COLUMNS
    # A query held in a variable, being typed.
    source = module('    sql = "SELECT  FROM users\n    db.execute(sql)\n')
    items = complete(project, source, cursor(source, "SELECT ", 7))
    assert labels(items, "column") == USERS_COLUMNS
    # A broken line below the cursor is cut away.
    source = module('    db.execute("SELECT * FROM users WHERE ")\n    x = (\n')
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "column") == USERS_COLUMNS
    # Hover works the same way.
    source = module('    db.execute("SELECT email FROM users WHERE ')
    assert token(project, source, "email").table == "users"
    # Windows line endings, and an f-string whose field is still open.
    source = module('    db.execute("SELECT 1")\r\n    db.execute("SELECT * FROM orders o WHERE o.')
    assert [c.label for c in complete(project, source, end_of(source))] == ORDERS_COLUMNS
    source = module('    db.execute(f"SELECT * FROM users WHERE id = {')
    items = complete(project, source, cursor(source, "{"))
    assert labels(items, "column") == USERS_COLUMNS


def test_completion_in_multiline_triple_quoted_sql(project: Project) -> None:
    source = module(
        '    rows = db.execute("""\n'
        "        SELECT u.name, o.total_cents\n"
        "        FROM users AS u\n"
        "        JOIN orders o ON o.user_id = u.id\n"
        "        WHERE o.\n"
        '    """)\n'
    )
    items = complete(project, source, cursor(source, "WHERE o.", 8))
    assert [c.label for c in items] == ORDERS_COLUMNS
    assert token(project, source, "u.name", 2).table == "users"
    assert token(project, source, "u\n").table == "users"
    # The same, not closed yet.
    cut = source[: source.index("WHERE o.") + len("WHERE o.")]
    items = complete(project, cut, end_of(cut))
    assert [c.label for c in items] == ORDERS_COLUMNS
    cut = source[: source.index("FROM users") + len("FROM ")]
    assert labels(complete(project, cut, end_of(cut)), "table") == ["orders", "users", "audit_log"]


def test_completion_in_an_fstring_and_with_pyformat_placeholders(project: Project) -> None:
    source = module('    db.execute(f"SELECT * FROM orders WHERE user_id = {uid} AND ", (uid,))\n')
    items = complete(project, source, cursor(source, "AND ", 4))
    assert labels(items, "column") == ORDERS_COLUMNS
    assert complete(project, source, cursor(source, "{uid}", 2)) == ()
    source = module('    db.execute("SELECT * FROM users WHERE id = %s AND ", (uid,))\n')
    items = complete(project, source, cursor(source, "AND ", 4))
    assert labels(items, "column") == USERS_COLUMNS


def test_completion_in_a_script_reads_the_statement_at_the_cursor(project: Project) -> None:
    source = module(
        '    db.executescript("DELETE FROM orders WHERE status = 1; UPDATE users SET ;")\n'
    )
    items = complete(project, source, cursor(source, "SET ", 4))
    assert labels(items, "column") == USERS_COLUMNS


def test_no_completion_outside_sql(project: Project) -> None:
    source = module(
        '    note = "SELECT * FROM "\n'
        "    db.execute(\"SELECT * FROM users WHERE name = 'ab' -- who \")\n"
        "    x = \n"
    )
    for marker, delta in [
        ('FROM "', 5),  # a string no database call receives
        ("db.execute", 1),
        ("ab'", 1),  # inside a SQL string literal
        ("who", 3),  # inside a SQL comment
        ("x = ", 4),
    ]:
        assert complete(project, source, cursor(source, marker, delta)) == (), marker
    assert complete(project, "", (1, 1)) == ()
    assert complete(project, source, (500, 3)) == ()


REALISTIC = '''"""Orders of the shop."""

from __future__ import annotations

import sqlite3

SORTS = {"new": "created_at DESC", "total": "total_cents DESC"}
BASE = """
    SELECT o.id, o.status, o.total_cents, u.email
    FROM orders o JOIN users u ON u.id = o.user_id
"""


class Orders:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def for_user(self, user_id: int, sort: str = "new") -> list[tuple[int, str]]:
        sql = BASE + " WHERE o.user_id = ?"
        sql += f" ORDER BY {SORTS[sort]}"
        return self.db.execute(sql, (user_id,)).fetchall()

    def rename(self, uid: int, name: str) -> None:
        # Le nom affiché — «café» ☕
        self.db.execute(
            "UPDATE users SET name = ? WHERE id = ?",
            (name, uid),
        )

    def search(self, term: str, limit: int = 10) -> list[tuple[str]]:
        return self.db.execute(
            f"SELECT name FROM users WHERE name LIKE '%' || ? || '%' LIMIT {int(limit)}",
            (term,),
        ).fetchall()

    def totals(self) -> list[tuple[str, int]]:
        return self.db.execute("""
            SELECT u.name, SUM(o.total_cents) AS spent  -- per user
            FROM users u
            LEFT JOIN orders o ON o.user_id = u.id
            WHERE u.status = 'active' AND u.name != "x"
            GROUP BY u.id ORDER BY spent DESC
        """).fetchall()

    def log(self, message: str) -> None:
        self.db.executescript(
            "INSERT INTO audit_log (message) VALUES ('x'); "
            r"UPDATE orders SET status = 'seen\\' WHERE id = 1;"
        )
        self.db.execute("INSERT INTO audit_log (message) VALUES (%s)" % "?", (message,))
'''


def _positions(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        out.extend((number, column) for column in range(1, len(line) + 2))
    return out


def test_the_realistic_file_is_read(project: Project) -> None:
    """The fuzz file is valid and its statements are found (else the fuzz proves little)."""
    assert len(project.statements(REALISTIC, "app/x.py")) == 6
    assert token(project, REALISTIC, "u.email", 2).table == "users"
    items = complete(project, REALISTIC, cursor(REALISTIC, "u.status", 2))
    assert [c.label for c in items] == USERS_COLUMNS


def test_every_cut_of_a_realistic_file_is_survived(project: Project) -> None:
    """Typing the file from the first character to the last: no request ever raises."""
    path = "app/x.py"
    for cut in range(len(REALISTIC) + 1):
        source = REALISTIC[:cut]
        line, column = end_of(source)
        assert isinstance(completions(project, path, source, line, column), tuple)
        found = token_at(project, path, source, line, max(column - 1, 1))
        if found is not None:
            hover_markdown(project, found)
        # A cursor somewhere before the end of what is typed.
        mid_line = max(1, line // 2)
        completions(project, path, source, mid_line, 5)
        token_at(project, path, source, mid_line, 9)


def test_every_position_of_a_realistic_file_is_survived(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor anywhere in a valid and in a broken file: no request ever raises."""
    # The server caches the statements of a file it has read (a broken file is not cached).
    monkeypatch.setattr(project, "statements", functools.lru_cache(maxsize=4)(project.statements))
    path = "app/x.py"
    # Not valid Python: a call left open in the middle, a string left open below it.
    damaged = REALISTIC.replace("(name, uid),", "(name, uid", 1).replace(
        '"INSERT INTO audit_log (message) VALUES (%s)"', '"INSERT INTO audit_log (', 1
    )
    with pytest.raises(SyntaxError):
        compile(damaged, "x.py", "exec")
    for text in (REALISTIC, damaged):
        for line, column in _positions(text):
            items = completions(project, path, text, line, column)
            assert all(isinstance(c, Completion) for c in items)
            found = token_at(project, path, text, line, column)
            if found is not None:
                hover_markdown(project, found)
    for line, column in [(0, 0), (-1, 5), (1, -3), (10_000, 1), (3, 10_000)]:
        assert completions(project, path, REALISTIC, line, column) == ()
        assert token_at(project, path, REALISTIC, line, column) is None


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\x00",
        "db.execute(",
        'db.execute("',
        'db.execute("""',
        "db.execute('''SELECT \\",
        'db.execute(f"SELECT {',
        'db.execute(f"SELECT {x',
        'db.execute(f"SELECT {x:{',
        'db.execute(rb"SELECT * FROM ',
        "db.execute(\"SELECT * FROM users WHERE name = '",
        'db.execute("SELECT * FROM [us',
        'db.execute("SELECT * FROM \\"us',
        'db.execute("SELECT * FROM users /* ',
        'db.execute("SELECT * FROM users -- ',
        'db.execute("SELECT * FROM users") # db.execute("',
        'db.execute("SELECT * FROM users" \\',
        'db.execute("SELECT u.',
        'db.execute("SELECT .',
        'db.execute("SELECT * FROM main.',
        'db.execute("SELECT 1;;;',
        '\ufeffdb.execute("SELECT * FROM ',
        'db.execute("SELECT * FROM users")\r\ndb.execute("SELECT \r',
        ")]}" * 50 + 'db.execute("SELECT * FROM ',
        "(" * 500 + 'db.execute("SELECT * FROM ',
    ],
)
def test_odd_inputs_never_raise(project: Project, source: str) -> None:
    line, column = end_of(source)
    for at in [(line, column), (line, max(column - 1, 1)), (1, 1)]:
        completions(project, "x.py", source, *at)
        found = token_at(project, "x.py", source, *at)
        if found is not None:
            hover_markdown(project, found)

"""Hover and completion inside SQL strings (`dbheal_lsp.lookup`).

Every test runs against a real SQLite file and a real migrations folder under `tmp_path`: the
database has had migrations 001 to 003 applied (with one column's type changed by hand, so it
drifts), and 004 is not applied yet. Cursors are placed by searching the Python text for a
marker, so that each test reads like what a user points at.
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.lookup import Completion, SqlToken, completions, hover_markdown, token_at
from dbheal_lsp.model import Span

MIGRATIONS = {
    "001_users.sql": """-- the shop's customers
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_name ON users(name);
""",
    "002_orders.sql": """CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new',
    total_cents INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_orders_user_status ON orders(user_id, status);
""",
    "003_users_age.sql": "ALTER TABLE users ADD COLUMN age INTEGER;\n",
    "004_audit.sql": """-- not applied yet: the audit log
-- lands with the next release

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL
);
""",
}

USERS_COLUMNS = ["id", "name", "email", "status", "created_at", "age"]
ORDERS_COLUMNS = ["id", "user_id", "status", "total_cents"]


def build(root: Path, *, migrations: bool = True) -> Project:
    """Write the migrations, build the database from 001-003 (total_cents made REAL by hand).

    Without `migrations` no folder is written (a `migrations` folder would be discovered).
    """
    if migrations:
        folder = root / "migrations"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in MIGRATIONS.items():
            (folder / name).write_text(text, encoding="utf-8")
    applied = "".join(
        MIGRATIONS[n] for n in ("001_users.sql", "002_orders.sql", "003_users_age.sql")
    )
    conn = sqlite3.connect(root / "app.db")
    try:
        conn.executescript(applied.replace("total_cents INTEGER", "total_cents REAL"))
    finally:
        conn.close()
    settings: dict[str, str] = {"database": "app.db"}
    if migrations:
        settings["migrations"] = "migrations"
    return Project(load_config(root, settings))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return build(tmp_path)


def cursor(source: str, marker: str, delta: int = 0, nth: int = 0) -> tuple[int, int]:
    """Return the (line, column) of the `nth` occurrence of `marker`, moved by `delta`."""
    at = -1
    for _ in range(nth + 1):
        at = source.index(marker, at + 1)
    at += delta
    line = source.count("\n", 0, at) + 1
    column = at - (source.rfind("\n", 0, at) + 1) + 1
    return line, column


def end_of(source: str) -> tuple[int, int]:
    """Return the (line, column) just past the last character of `source`."""
    return cursor(source + "\x00", "\x00")


def token(project: Project, source: str, marker: str, delta: int = 0, nth: int = 0) -> SqlToken:
    found = token_at(project, "app/x.py", source, *cursor(source, marker, delta, nth))
    assert found is not None, f"no token at {marker!r}"
    return found


def hover(project: Project, source: str, marker: str, delta: int = 0, nth: int = 0) -> str:
    text = hover_markdown(project, token(project, source, marker, delta, nth))
    assert text is not None
    return text


def complete(project: Project, source: str, position: tuple[int, int]) -> tuple[Completion, ...]:
    return completions(project, "app/x.py", source, *position)


def labels(items: tuple[Completion, ...], kind: str) -> list[str]:
    return [c.label for c in items if c.kind == kind]


def module(body: str) -> str:
    return "import sqlite3\n\n\ndef run(db: sqlite3.Connection, uid: int) -> None:\n" + body


# --- hover ---------------------------------------------------------------------------------------


def test_hover_table_lists_columns_indexes_and_its_migration(project: Project) -> None:
    source = module('    db.execute("SELECT id FROM users WHERE id = ?", (uid,))\n')
    found = token(project, source, "users")
    assert found.kind == "table"
    assert found.name == found.table == "users"
    line, column = cursor(source, "users")
    assert found.span == Span(line, column, line, column + len("users"))
    text = hover(project, source, "users", 2)
    assert "**table** `users` — 6 columns" in text
    assert "- `id` INTEGER PRIMARY KEY" in text
    assert "- `name` TEXT NOT NULL" in text
    assert "- `status` TEXT NOT NULL DEFAULT 'active'" in text
    assert "Indexes: automatic UNIQUE (email) · `idx_users_name` (name)" in text
    assert "Defined in migrations/001_users.sql:2" in text


def test_hover_table_without_migrations_shows_the_create_statement(tmp_path: Path) -> None:
    project = build(tmp_path, migrations=False)
    source = module('    db.execute("SELECT id FROM orders")\n')
    text = hover(project, source, "orders")
    assert "Defined in the database:" in text
    assert "```sql\nCREATE TABLE orders (" in text
    assert "migrations" not in text


def test_hover_table_only_in_migrations_is_not_applied(project: Project) -> None:
    source = module('    db.execute("SELECT message FROM audit_log")\n')
    found = token(project, source, "audit_log")
    assert (found.kind, found.name) == ("table", "audit_log")
    text = hover(project, source, "audit_log")
    assert "not in the database" in text.lower()
    assert "defined in migrations/004_audit.sql:4" in text
    assert "- `message` TEXT NOT NULL" in text
    # Its column is found in the migrations too, and says so.
    column = hover(project, source, "message")
    assert "`audit_log.message`" in column
    assert "defined in migrations/004_audit.sql:6" in column
    assert "Not in the database" in column


def test_hover_plain_column(project: Project) -> None:
    source = module('    db.execute("SELECT email FROM users WHERE id = ?", (uid,))\n')
    found = token(project, source, "email", 3)
    assert (found.kind, found.name, found.table) == ("column", "email", "users")
    text = hover(project, source, "email")
    assert "**column** `users.email` — TEXT, affinity TEXT" in text
    assert "NOT NULL" in text
    assert "automatic UNIQUE (email; leading)" in text
    assert "Defined in migrations/001_users.sql:5" in text


def test_hover_column_default_and_primary_key(project: Project) -> None:
    source = module('    db.execute("SELECT id, status FROM users")\n')
    status = hover(project, source, "status")
    assert "DEFAULT 'active'" in status
    assert "Indexes: none" in status
    key = hover(project, source, "id,")
    assert "PRIMARY KEY (the rowid: never NULL)" in key
    assert "the table's own b-tree (rowid)" in key
    assert "Defined in migrations/001_users.sql:3" in key


def test_hover_column_qualified_by_alias(project: Project) -> None:
    source = module('    db.execute("SELECT u.name FROM users u WHERE u.id = ?", (uid,))\n')
    found = token(project, source, "u.name", 2)
    assert (found.kind, found.name, found.table) == ("column", "name", "users")
    line, column = cursor(source, "u.name", 2)
    assert found.span == Span(line, column, line, column + 4)
    assert "`idx_users_name` (name; leading)" in hover(project, source, "u.name", 2)
    # The alias itself stands for its table, where it is defined and where it is used.
    line, column = cursor(source, "u WHERE")
    assert token(project, source, "u WHERE") == SqlToken(
        "table", "users", "users", Span(line, column, line, column + 1)
    )
    assert token(project, source, "u.id") == SqlToken(
        "table", "users", "users", Span.point(*cursor(source, "u.id"))
    )


def test_hover_column_in_a_join_resolves_each_alias(project: Project) -> None:
    source = module(
        '    db.execute("SELECT u.status, o.status FROM users u '
        'JOIN orders o ON o.user_id = u.id WHERE total_cents > 0")\n'
    )
    assert token(project, source, "u.status", 2).table == "users"
    assert token(project, source, "o.status", 2).table == "orders"
    leading = hover(project, source, "o.user_id", 2)
    assert "`idx_orders_user_status` (user_id, status; leading)" in leading
    second = hover(project, source, "o.status", 2)
    assert "`idx_orders_user_status` (user_id, status; not leading: position 2)" in second
    assert "DEFAULT 'new'" in second
    # Unqualified: the table in scope that has the column.
    assert token(project, source, "total_cents").table == "orders"


def test_hover_column_whose_type_drifted(project: Project) -> None:
    source = module('    db.execute("SELECT total_cents FROM orders")\n')
    text = hover(project, source, "total_cents")
    assert "**column** `orders.total_cents` — REAL, affinity REAL" in text
    assert "**Drift**: the database declares REAL, the migrations INTEGER" in text
    assert "migrations/002_orders.sql:5" in text
    assert "drift: the migrations declare INTEGER" in hover(project, source, "orders")


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


def test_hover_on_an_unknown_column_of_a_known_table(project: Project) -> None:
    source = module('    db.execute("SELECT u.nmae FROM users u")\n')
    found = token(project, source, "nmae")
    assert (found.kind, found.table) == ("column", "users")
    assert hover_markdown(project, found) is None


def test_hover_on_quoted_and_schema_qualified_names(project: Project) -> None:
    source = module(
        '    db.execute(\'SELECT "email", u.[name] FROM main."users" AS u WHERE `id` = 1\')\n'
    )
    found = token(project, source, '"email"', 1)
    assert (found.kind, found.name, found.table) == ("column", "email", "users")
    line, column = cursor(source, '"email"')
    assert found.span == Span(line, column, line, column + len('"email"'))
    assert token(project, source, "[name]").table == "users"
    table = token(project, source, '"users"')
    assert (table.kind, table.name) == ("table", "users")
    assert table.span == Span.point(*cursor(source, '"users"'), len('"users"'))
    assert token(project, source, "`id`").table == "users"
    assert token_at(project, "app/x.py", source, *cursor(source, "main")) is None


def test_hover_in_an_upsert_resolves_excluded_to_the_target(project: Project) -> None:
    source = module(
        '    db.execute("INSERT INTO users (name, email) VALUES (?, ?) '
        'ON CONFLICT(email) DO UPDATE SET name = excluded.name", ("a", "b"))\n'
    )
    assert token(project, source, "email)").table == "users"
    assert token(project, source, "excluded.name", 9).table == "users"
    assert token(project, source, "excluded").kind == "table"


# --- completion ---------------------------------------------------------------------------------


def test_completion_after_from_lists_tables_with_the_migrations_only_one(project: Project) -> None:
    source = module('    db.execute("SELECT * FROM ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "table") == ["orders", "users", "audit_log"]
    assert not labels(items, "column") and not labels(items, "keyword")
    by_label = {c.label: c for c in items}
    assert by_label["users"].detail == "table, 6 columns"
    assert by_label["audit_log"].detail == "table, 2 columns — not applied"
    assert "defined in migrations/004_audit.sql:4" in by_label["audit_log"].documentation


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM us",  # a partly typed name
        "SELECT * FROM users u JOIN ",
        "SELECT * FROM users u LEFT OUTER JOIN ",
        "SELECT * FROM users, ",
        "INSERT INTO ",
        "INSERT OR REPLACE INTO ",
        "UPDATE ",
        "DELETE FROM ",
        "DROP TABLE IF EXISTS ",
        "CREATE INDEX idx ON ",
    ],
)
def test_completion_of_table_names(project: Project, sql: str) -> None:
    source = module(f'    db.execute("{sql}")\n')
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "table") == ["orders", "users", "audit_log"], sql
    assert not labels(items, "column")


def test_completion_after_alias_dot_lists_that_table_only(project: Project) -> None:
    source = module('    db.execute("SELECT u. FROM users u JOIN orders o ON o.user_id = u.id")\n')
    items = complete(project, source, cursor(source, "u. FROM", 2))
    assert [c.label for c in items] == USERS_COLUMNS
    assert {c.kind for c in items} == {"column"}
    by_label = {c.label: c for c in items}
    assert by_label["name"].detail == "TEXT NOT NULL — users"
    assert by_label["id"].detail == "INTEGER PRIMARY KEY — users"
    assert "`users.name`" in by_label["name"].documentation
    # With part of the name typed, and for the other alias.
    source = module(
        '    db.execute("SELECT o.to FROM users u JOIN orders o ON o.user_id = u.id")\n'
    )
    items = complete(project, source, cursor(source, "o.to", 4))
    assert [c.label for c in items] == ORDERS_COLUMNS
    assert items[3].detail == "REAL NOT NULL — orders"


def test_completion_in_where_lists_columns_in_scope_then_tables(project: Project) -> None:
    source = module(
        '    db.execute("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE ")\n'
    )
    items = complete(project, source, cursor(source, '")'))
    assert labels(items, "column") == USERS_COLUMNS + ORDERS_COLUMNS
    assert "message" not in labels(items, "column")  # audit_log is not in scope
    kinds = [c.kind for c in items]
    assert kinds.index("table") > max(i for i, k in enumerate(kinds) if k == "column")
    assert "AND" in labels(items, "keyword")


def test_completion_in_the_select_list_sees_tables_named_later(project: Project) -> None:
    source = module('    db.execute("SELECT  FROM orders")\n')
    items = complete(project, source, cursor(source, "SELECT ", 7))
    assert labels(items, "column") == ORDERS_COLUMNS


def test_completion_in_insert_and_update_lists_the_target_columns(project: Project) -> None:
    source = module('    db.execute("INSERT INTO orders () VALUES (?)", (1,))\n')
    items = complete(project, source, cursor(source, "()", 1))
    assert labels(items, "column") == ORDERS_COLUMNS
    source = module('    db.execute("UPDATE users SET  WHERE id = ?", (uid,))\n')
    items = complete(project, source, cursor(source, "SET ", 4))
    assert labels(items, "column") == USERS_COLUMNS


def test_completion_after_a_table_name_proposes_keywords(project: Project) -> None:
    source = module('    db.execute("SELECT * FROM users u ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert items and {c.kind for c in items} == {"keyword"}
    assert "WHERE" in labels(items, "keyword")


def test_completion_of_columns_a_migration_adds_but_the_database_lacks(tmp_path: Path) -> None:
    project = build(tmp_path)
    (tmp_path / "migrations" / "005_users_phone.sql").write_text(
        "ALTER TABLE users ADD COLUMN phone TEXT;\n", encoding="utf-8"
    )
    source = module('    db.execute("SELECT  FROM users")\n')
    items = complete(project, source, cursor(source, "SELECT ", 7))
    assert labels(items, "column") == [*USERS_COLUMNS, "phone"]
    phone = items[len(USERS_COLUMNS)]
    assert phone.detail == "TEXT — users (not applied)"
    assert "defined in migrations/005_users_phone.sql:1" in phone.documentation


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


def test_an_unreadable_database_falls_back_to_the_migrations(tmp_path: Path) -> None:
    project = build(tmp_path)
    (tmp_path / "app.db").write_bytes(b"this is not a database, not at all....")
    source = module('    db.execute("SELECT * FROM ")\n')
    items = complete(project, source, cursor(source, '")'))
    assert set(labels(items, "table")) == {"users", "orders", "audit_log"}


# --- robustness -----------------------------------------------------------------------------------

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

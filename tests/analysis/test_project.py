"""The project (`Project.check_source`, `Project.check_paths`) on whole trees and on bad input.

Every test builds a real SQLite file and real Python files under `tmp_path` and checks what a
user of `dbheal check` or of the editor would see: which issues are reported where, which files
get a note, and that one bad file or a busy database never takes the whole check down.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.model import CheckResult, Issue, IssueType

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new',
    total_cents INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE TABLE stock (
    sku TEXT PRIMARY KEY,
    on_hand INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
CREATE INDEX idx_users_name ON users(name);
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
CREATE INDEX idx_order_items_sku ON order_items(sku);
"""

HEADER = "import sqlite3\n\nconn = sqlite3.connect('app.db')\n"

# One broken query (a misspelt column), used wherever "this file's issues are still found".
BROKEN = HEADER + "conn.execute('SELECT nmae FROM users WHERE id = ?', (1,))\n"
BROKEN_LINE = 4


def make_db(path: Path, script: str = SCHEMA) -> Path:
    """Create a real SQLite file at `path` from `script` and return `path`."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
    finally:
        conn.close()
    return path


def write(root: Path, rel: str, text: str) -> Path:
    """Write `text` to root/rel (creating folders) and return the path."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(root: Path, **overrides: Any) -> Project:
    """Return the Project of `root` with `overrides` as explicit settings (snake_case keys)."""
    return Project(load_config(root, overrides))


def where(issues: tuple[Issue, ...] | list[Issue]) -> list[tuple[str, int, IssueType]]:
    """Return (path, line, type) of each issue: what a user reads first."""
    return [(i.path, i.span.line, i.type) for i in issues]


def essentials(result: CheckResult) -> tuple[Any, ...]:
    """Return everything of a result that a user sees, apart from the cache counter."""
    return (
        tuple(i.to_json() for i in result.issues),
        tuple(sorted((n.path, n.message, n.line) for n in result.notes)),
        result.files_checked,
        result.statements_checked,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The project database, created from SCHEMA."""
    return make_db(tmp_path / "app.db")


# --- bad files in a tree ------------------------------------------------------------------------


def test_syntax_error_is_one_note_and_other_files_are_checked(tmp_path: Path, db: Path) -> None:
    write(
        tmp_path, "app/broken.py", HEADER + "def f(:\n    conn.execute('SELECT nmae FROM users')\n"
    )
    write(tmp_path, "app/good.py", BROKEN)

    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)

    assert [(n.path, n.line) for n in result.notes] == [("app/broken.py", 4)]
    note = result.notes[0]
    assert "syntax error" in note.message.lower()
    assert "line 4" in note.message
    assert where(result.issues) == [("app/good.py", BROKEN_LINE, IssueType.MISSING_COLUMN)]
    assert result.files_checked == 2


@pytest.mark.parametrize(
    ("content", "note_words"),
    [
        pytest.param(
            "# caf\xe9\nconn.execute('SELECT nmae FROM users')\n".encode("latin-1"),
            "not UTF-8",
            id="latin-1",
        ),
        pytest.param(
            b"\x7fELF\x02\x01\x01\x00\x00\x00execute SELECT\x00\x00", "binary", id="binary"
        ),
    ],
)
def test_undecodable_file_is_skipped_with_a_note(
    tmp_path: Path, db: Path, content: bytes, note_words: str
) -> None:
    (tmp_path / "weird.py").write_bytes(content)
    write(tmp_path, "good.py", BROKEN)

    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)

    assert len(result.notes) == 1
    assert result.notes[0].path == "weird.py"
    assert result.notes[0].message.startswith("skipped:")
    assert note_words in result.notes[0].message
    assert where(result.issues) == [("good.py", BROKEN_LINE, IssueType.MISSING_COLUMN)]


def test_both_undecodable_files_in_one_tree(tmp_path: Path, db: Path) -> None:
    (tmp_path / "latin.py").write_bytes("x = 'd\xe9j\xe0 vu'\n".encode("latin-1"))
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 4)
    write(tmp_path, "good.py", BROKEN)

    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)

    assert sorted(n.path for n in result.notes) == ["blob.py", "latin.py"]
    assert where(result.issues) == [("good.py", BROKEN_LINE, IssueType.MISSING_COLUMN)]
    assert result.files_checked == 3


def test_megabyte_file_is_checked_throughout(tmp_path: Path, db: Path) -> None:
    lines = [HEADER]
    expected: list[int] = []
    line = HEADER.count("\n")
    n = 0
    while sum(len(part) for part in lines) < 1_000_000:
        n += 1
        lines.append(
            f"\n\ndef get_user_{n}(user_id: int) -> object:\n"
            f"    '''Return user {n}, padded so that the file is big: {'x' * 40}.'''\n"
            "    return conn.execute(\n"
            "        'SELECT id, name, email FROM users WHERE id = ?', (user_id,)\n"
            "    ).fetchone()\n"
        )
        line += 7
        if n % 500 == 0:
            # Every 500th function has a misspelt column, on the line of the SQL string.
            lines[-1] = lines[-1].replace("email FROM", "emial FROM")
            expected.append(line - 1)
    source = "".join(lines)
    assert len(source.encode()) >= 1_000_000
    write(tmp_path, "big.py", source)

    started = time.monotonic()
    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)
    elapsed = time.monotonic() - started

    assert result.notes == ()
    assert [i.span.line for i in result.issues] == expected
    assert {i.type for i in result.issues} == {IssueType.MISSING_COLUMN}
    assert all(i.column_name == "emial" for i in result.issues)
    assert result.statements_checked == n
    assert elapsed < 60


# --- the database -----------------------------------------------------------------------------


@pytest.fixture
def exclusive_writer(db: Path) -> Iterator[sqlite3.Connection]:
    """A second real connection holding an exclusive lock on the database until the test ends."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def test_locked_database_fails_fast_then_recovers(
    tmp_path: Path, db: Path, exclusive_writer: sqlite3.Connection
) -> None:
    write(tmp_path, "app.py", BROKEN)
    checker = project(tmp_path, database=str(db))

    started = time.monotonic()
    with pytest.raises(SchemaError, match="locked") as caught:
        checker.check_paths([tmp_path], use_cache=False)
    assert time.monotonic() - started < 10
    assert str(db) in str(caught.value)
    assert "\n" not in str(caught.value)

    exclusive_writer.execute("ROLLBACK")
    result = checker.check_paths([tmp_path], use_cache=False)
    assert where(result.issues) == [("app.py", BROKEN_LINE, IssueType.MISSING_COLUMN)]


def _corrupt(path: Path) -> None:
    """Write a real database's 100-byte header followed by garbage pages."""
    header = make_db(path.with_suffix(".good")).read_bytes()[:100]
    path.write_bytes(header + bytes((i * 37 + 11) % 256 for i in range(8192 - 100)))


def _text(path: Path) -> None:
    path.write_text("id,name\n1,alice\n2,bob\n", encoding="utf-8")


def _nothing(path: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(_corrupt, "corrupt", id="corrupt"),
        pytest.param(_text, "is not a SQLite database", id="text-file"),
        pytest.param(_nothing, "not found", id="missing"),
    ],
)
def test_unusable_database_gives_a_clear_schema_error(
    tmp_path: Path, make: Any, message: str
) -> None:
    database = tmp_path / "data.db"
    make(database)
    write(tmp_path, "app.py", BROKEN)

    with pytest.raises(SchemaError) as caught:
        project(tmp_path, database=str(database)).check_paths([tmp_path], use_cache=False)

    text = str(caught.value)
    assert message in text
    assert str(database) in text
    assert "\n" not in text


# --- SQL that sqlglot cannot parse ------------------------------------------------------------

# sqlglot 30 (read="sqlite") raises ParseError on each of these; SQLite prepares every one.
SQLGLOT_CANNOT_PARSE: list[tuple[str, tuple[object, ...]]] = [
    ("UPDATE OR IGNORE users SET name = ? WHERE id = ?", ("Ann", 1)),
    ("UPDATE OR REPLACE users SET email = ? WHERE id = ?", ("a@example.com", 1)),
    ("UPDATE OR ABORT orders SET status = ? WHERE user_id = ?", ("paid", 1)),
    ("UPDATE OR FAIL stock SET on_hand = on_hand - ? WHERE sku = ?", (1, "A-1")),
    ("UPDATE OR ROLLBACK orders SET total_cents = ? WHERE id = ?", (100, 1)),
    # Numbered parameters out of order: ?2 is "Ann", ?1 is 7.
    ("SELECT id FROM users WHERE name = ?2 AND id = ?1", (7, "Ann")),
    ("SELECT id FROM orders WHERE user_id BETWEEN ?1 AND ?2", (100, 900)),
    (
        "INSERT INTO stock (sku, on_hand) VALUES (?, ?) "
        "ON CONFLICT (sku) DO UPDATE SET on_hand = on_hand + excluded.on_hand "
        "ON CONFLICT DO NOTHING",
        ("A-1", 3),
    ),
]


@pytest.mark.parametrize(("sql", "params"), SQLGLOT_CANNOT_PARSE)
def test_sql_sqlglot_cannot_parse_gives_no_false_alarm(
    tmp_path: Path, db: Path, sql: str, params: tuple[object, ...]
) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("EXPLAIN " + sql, params)  # SQLite itself accepts the statement
    finally:
        conn.close()
    source = HEADER + f"conn.execute({sql!r}, {params!r})\n"

    result = project(tmp_path, database=str(db)).check_source("app.py", source)

    assert result.statements == 1
    assert result.issues == ()
    assert result.notes == ()


def test_sql_sqlglot_cannot_parse_is_still_checked_by_sqlite(tmp_path: Path, db: Path) -> None:
    source = HEADER + "conn.execute('UPDATE OR IGNORE users SET nmae = ? WHERE id = ?', ('A', 1))\n"

    result = project(tmp_path, database=str(db)).check_source("app.py", source)

    assert [(i.type, i.column_name) for i in result.issues] == [(IssueType.MISSING_COLUMN, "nmae")]


def test_a_named_file_that_links_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    """What the editor's watcher or the hook pass: a file of the project that is a link to a
    file elsewhere (here one with a broken query) gets a note, and its text is never read."""
    root = tmp_path / "project"
    root.mkdir()
    db = make_db(root / "app.db")
    write(tmp_path, "elsewhere/secret.py", BROKEN)
    (root / "linked.py").symlink_to(tmp_path / "elsewhere" / "secret.py")
    os.mkfifo(root / "pipe.py")

    result = project(root, database=str(db)).check_paths(
        [root / "linked.py", root / "pipe.py"], use_cache=False
    )

    assert result.issues == ()
    assert sorted((n.path, n.message) for n in result.notes) == [
        ("linked.py", "skipped: links out of the project"),
        ("pipe.py", "skipped: not a regular file"),
    ]


# --- a schema from the code itself ------------------------------------------------------------

SCHEMA_MODULE = '''"""Creates the tables on first start."""
import sqlite3


def init(conn: sqlite3.Connection) -> None:
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS notes (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            body TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_notes_title ON notes(title);
        """
    )
'''

USES_MODULE = """import sqlite3


def titles(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT title FROM notes WHERE title = ?", ("a",))]


def bodies(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT bdoy FROM notes WHERE id = ?", (1,))]
"""


def test_ddl_in_the_code_is_the_schema_without_database_or_migrations(tmp_path: Path) -> None:
    write(tmp_path, "app/schema.py", SCHEMA_MODULE)
    write(tmp_path, "app/queries.py", USES_MODULE)
    checker = project(tmp_path)
    assert checker.config.database is None
    assert checker.config.migrations is None

    result = checker.check_paths([tmp_path], use_cache=False)

    assert where(result.issues) == [("app/queries.py", 9, IssueType.MISSING_COLUMN)]
    assert result.issues[0].column_name == "bdoy"
    assert result.issues[0].suggestion == "body"


# --- clean code -------------------------------------------------------------------------------

CLEAN_MODULE = '''"""A realistic data-access module whose every query is correct for SCHEMA."""
from __future__ import annotations

import sqlite3


def user_by_email(conn: sqlite3.Connection, email: str) -> tuple[int, str] | None:
    return conn.execute("SELECT id, name FROM users WHERE email = ?", (email,)).fetchone()


def orders_of(conn: sqlite3.Connection, user_id: int) -> list[tuple[int, str, int]]:
    return conn.execute(
        """
        SELECT o.id, o.status, o.total_cents
        FROM orders AS o
        JOIN users AS u ON u.id = o.user_id
        WHERE u.id = :user_id
        ORDER BY o.created_at DESC
        """,
        {"user_id": user_id},
    ).fetchall()


def big_spenders(conn: sqlite3.Connection, minimum: int) -> list[tuple[str, int]]:
    return conn.execute(
        """
        SELECT u.name, SUM(o.total_cents) AS spent
        FROM users AS u
        JOIN orders AS o ON o.user_id = u.id
        GROUP BY u.id, u.name
        HAVING SUM(o.total_cents) > ?
        ORDER BY spent DESC
        """,
        (minimum,),
    ).fetchall()


def users_with_open_orders(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    return conn.execute(
        "SELECT id, name FROM users WHERE id IN "
        "(SELECT user_id FROM orders WHERE status = 'new')"
    ).fetchall()


def order_lines(conn: sqlite3.Connection, order_id: int) -> list[tuple[str, int, int]]:
    return conn.execute(
        """
        WITH lines AS (
            SELECT sku, quantity, quantity * price_cents AS line_total
            FROM order_items
            WHERE order_id = ?
        )
        SELECT l.sku, l.quantity, l.line_total FROM lines AS l ORDER BY l.sku
        """,
        (order_id,),
    ).fetchall()


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]


def add_user(conn: sqlite3.Connection, name: str, email: str) -> int | None:
    cur = conn.execute("INSERT INTO users (name, email) VALUES (?, ?)", (name, email))
    return cur.lastrowid


def add_items(conn: sqlite3.Connection, order_id: int, items: list[tuple[str, int, int]]) -> None:
    conn.executemany(
        "INSERT INTO order_items (order_id, sku, quantity, price_cents) VALUES (?, ?, ?, ?)",
        [(order_id, sku, qty, price) for sku, qty, price in items],
    )


def rename_user(conn: sqlite3.Connection, user_id: int, name: str) -> None:
    conn.execute("UPDATE users SET name = :name WHERE id = :id", {"name": name, "id": user_id})


def set_status(conn: sqlite3.Connection, order_id: int, status: str) -> None:
    conn.execute("UPDATE orders SET status = ?, total_cents = 0 WHERE id = ?", (status, order_id))


def drop_item(conn: sqlite3.Connection, order_id: int, sku: str) -> None:
    conn.execute("DELETE FROM order_items WHERE order_id = ? AND sku = ?", (order_id, sku))


def restock(conn: sqlite3.Connection, sku: str, quantity: int) -> None:
    conn.execute(
        """
        INSERT INTO stock (sku, on_hand, updated_at) VALUES (?, ?, CURRENT_TIMESTAMP)
        ON CONFLICT (sku) DO UPDATE
        SET on_hand = stock.on_hand + excluded.on_hand, updated_at = excluded.updated_at
        """,
        (sku, quantity),
    )


def statuses(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY n DESC"
    ).fetchall()


def latest_order(conn: sqlite3.Connection, user_id: int) -> tuple[int, str] | None:
    return conn.execute(
        """
        SELECT o.id, o.created_at
        FROM orders AS o
        WHERE o.user_id = ?
          AND o.created_at = (SELECT MAX(o2.created_at) FROM orders AS o2 WHERE o2.user_id = o.user_id)
        """,
        (user_id,),
    ).fetchone()


def stock_of(conn: sqlite3.Connection, skus: list[str]) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT s.sku, s.on_hand FROM stock AS s "
        "LEFT JOIN order_items AS i ON i.sku = s.sku "
        "WHERE s.sku = ? GROUP BY s.sku, s.on_hand",
        (skus[0],),
    ).fetchall()
'''


def test_clean_code_has_no_issues(tmp_path: Path, db: Path) -> None:
    write(tmp_path, "app/data.py", CLEAN_MODULE)

    result = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=False)

    assert result.notes == ()
    assert result.statements_checked >= 15
    assert result.issues == ()

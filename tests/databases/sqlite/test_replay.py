"""Tests of replaying migration files into the expected schema."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dbheal_lsp.analysis.migrations import MigrationError
from dbheal_lsp.databases.sqlite.replay import replay_migrations, schema_from_ddl
from dbheal_lsp.databases.sqlite.sandbox import Budget
from dbheal_lsp.model import Origin


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so that migration folders can be given as relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- replaying --------------------------------------------------------------------------


def test_origins_of_tables_columns_and_indexes(in_tmp: Path) -> None:
    write(
        in_tmp,
        "migrations/001_init.sql",
        """
        -- The first migration.

        CREATE TABLE IF NOT EXISTS main.orders (
            id INTEGER PRIMARY KEY,
            -- the customer; a comment with a semicolon
            customer_id INTEGER NOT NULL,
            note TEXT DEFAULT 'a, b; c',
            "Created At" DATETIME,
            amount DECIMAL(10, 2),
            CONSTRAINT positive CHECK (amount > 0),
            UNIQUE (customer_id, note)
        );

        CREATE INDEX idx_orders_customer
            ON orders (customer_id);
        """,
    )
    write(
        in_tmp,
        "migrations/002_more.sql",
        """
        CREATE TABLE other (a INT); ALTER TABLE orders
            ADD COLUMN shipped BOOLEAN DEFAULT 0;
        """,
    )
    result = replay_migrations(Path("migrations"))
    assert result.errors == ()
    first = "migrations/001_init.sql"
    orders = result.schema.table("orders")
    assert orders is not None
    assert orders.origin == Origin(first, 3)
    lines = {c.name: c.origin.line if c.origin else None for c in orders.columns}
    assert lines == {
        "id": 4,
        "customer_id": 6,
        "note": 7,
        "Created At": 8,
        "amount": 9,  # five lines into the CREATE TABLE statement
        "shipped": 1,
    }
    shipped = orders.column("shipped")
    assert shipped is not None and shipped.origin == Origin("migrations/002_more.sql", 1)
    assert result.schema.indexes["idx_orders_customer"].origin == Origin(first, 14)
    assert result.schema.indexes["sqlite_autoindex_orders_1"].origin == Origin(first, 3)
    other = result.schema.table("other")
    assert other is not None and other.origin == Origin("migrations/002_more.sql", 1)


def test_absolute_folder_gives_absolute_paths(tmp_path: Path) -> None:
    write(tmp_path, "001.sql", "CREATE TABLE a (x);\n")
    table = replay_migrations(tmp_path).schema.table("a")
    assert table is not None and table.origin == Origin(str(tmp_path / "001.sql"), 1)


def test_syntax_error_is_reported_and_replay_goes_on(in_tmp: Path) -> None:
    write(in_tmp, "migrations/001_init.sql", "CREATE TABLE a (x);\n")
    write(
        in_tmp,
        "migrations/003_x.sql",
        """
        CREATE TABLE b (y);
        -- a mistake follows

        CREATE TABEL oops (
            z INT
        );
        CREATE TABLE c (z);
        """,
    )
    write(in_tmp, "migrations/004_later.sql", "ALTER TABLE c ADD COLUMN w;\n")
    write(in_tmp, "migrations/005_dup.sql", "-- again\n\nCREATE TABLE a (again);\n")
    result = replay_migrations(Path("migrations"))
    assert result.errors == (
        MigrationError("migrations/003_x.sql", 4, 'near "TABEL": syntax error'),
        MigrationError("migrations/005_dup.sql", 3, "table a already exists"),
    )
    assert str(result.errors[0]) == 'migrations/003_x.sql:4: near "TABEL": syntax error'
    assert set(result.schema.tables) == {"a", "b", "c"}
    table = result.schema.table("c")
    assert table is not None and table.column_names == ("z", "w")
    a = result.schema.table("a")
    assert a is not None and a.origin == Origin("migrations/001_init.sql", 1)


def test_statements_for_table_and_column_statement(in_tmp: Path) -> None:
    write(
        in_tmp,
        "migrations/001_init.sql",
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
        CREATE INDEX idx_users_name ON users(name);
        CREATE INDEX idx_gone ON users(id, name);
        CREATE TRIGGER users_trg AFTER DELETE ON users BEGIN
            DELETE FROM posts WHERE user_id = old.id;
        END;
        CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INT);
        INSERT INTO users (name) VALUES ('root');
        """,
    )
    write(
        in_tmp,
        "migrations/002_change.sql",
        """
        ALTER TABLE users ADD COLUMN email TEXT;
        DROP INDEX idx_gone;
        ALTER TABLE posts RENAME COLUMN user_id TO author_id;
        """,
    )
    result = replay_migrations(Path("migrations"))
    assert result.errors == ()
    users = result.statements_for_table("Users")
    assert [(s.kind, s.line, s.path) for s in users] == [
        ("create_table", 1, "migrations/001_init.sql"),
        ("create_index", 2, "migrations/001_init.sql"),
        ("create_trigger", 4, "migrations/001_init.sql"),
        ("add_column", 1, "migrations/002_change.sql"),
    ]
    assert users[0].sql == "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"
    assert users[2].sql.endswith("END") and users[2].table == "users"
    assert (users[3].table, users[3].column) == ("users", "email")

    email = result.column_statement("users", "EMAIL")
    assert email is users[3]
    assert result.column_statement("users", "name") is users[0]
    assert result.column_statement("users", "nothing") is None
    assert result.statements_for_table("nothing") == ()

    author = result.column_statement("posts", "author_id")
    assert author is not None and author.kind == "create_table"
    posts = result.statements_for_table("posts")
    assert [s.kind for s in posts] == ["create_table", "other"]
    assert posts[1].column == "author_id"

    ddl = result.ddl_for_table("users")
    assert ddl[0].startswith("CREATE TABLE users") and "email TEXT" in ddl[0]
    assert ddl[1:] == (
        "CREATE INDEX idx_users_name ON users(name)",
        result.schema.triggers["users_trg"].sql,
    )
    # Every statement that ran is kept, in order, including data statements.
    assert [s.kind for s in result.statements][-4:] == ["other", "add_column", "other", "other"]


def test_rebuilt_table_keeps_its_history(tmp_path: Path) -> None:
    # SQLite's usual way of changing a column: copy into a new table and rename it.
    write(
        tmp_path,
        "001.sql",
        """
        CREATE TABLE items (id INTEGER PRIMARY KEY, price TEXT);
        CREATE INDEX idx_items_price ON items(price);
        """,
    )
    write(
        tmp_path,
        "002.sql",
        """
        CREATE TABLE items_new (
            id INTEGER PRIMARY KEY,
            price REAL
        );
        INSERT INTO items_new SELECT id, price FROM items;
        DROP TABLE items;
        ALTER TABLE items_new RENAME TO items;
        CREATE INDEX idx_items_price ON items(price);
        """,
    )
    result = replay_migrations(tmp_path)
    assert result.errors == ()
    items = result.schema.table("items")
    assert items is not None
    assert items.origin == Origin(str(tmp_path / "002.sql"), 1)
    price = items.column("price")
    assert price is not None and price.affinity == "REAL"
    assert price.origin == Origin(str(tmp_path / "002.sql"), 3)
    history = result.statements_for_table("items")
    assert [(s.kind, s.line) for s in history] == [
        ("create_table", 1),
        ("other", 7),
        ("create_index", 8),
    ]
    assert result.schema.indexes["idx_items_price"].origin == Origin(str(tmp_path / "002.sql"), 8)
    assert result.statements_for_table("items_new") == ()


def test_transactions_and_attach_in_migrations(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001.sql",
        """
        BEGIN TRANSACTION;
        CREATE TABLE a (x);
        COMMIT;
        ATTACH DATABASE 'elsewhere.db' AS other;
        BEGIN;
        CREATE TABLE b (y);
        """,
    )
    write(tmp_path, "002.sql", "CREATE TABLE c (z);\n")
    result = replay_migrations(tmp_path)
    assert result.errors == ()
    assert set(result.schema.tables) == {"a", "b", "c"}
    # Replaying never creates files, whatever the migrations say.
    assert not (tmp_path / "elsewhere.db").exists()
    assert not Path("elsewhere.db").exists()


def test_missing_folder(tmp_path: Path) -> None:
    result = replay_migrations(tmp_path / "absent")
    assert result.schema.is_empty and result.schema.source == "migrations"
    assert result.errors == (
        MigrationError(str(tmp_path / "absent"), 0, "migrations folder not found"),
    )
    assert str(result.errors[0]).endswith("absent: migrations folder not found")


def test_empty_folder(tmp_path: Path) -> None:
    result = replay_migrations(tmp_path)
    assert result.errors == () and result.files == ()
    assert result.schema.is_empty and result.schema.source == "migrations"


def test_schema_from_ddl_in_code() -> None:
    schema = schema_from_ddl(
        [
            (
                "\nCREATE TABLE IF NOT EXISTS users (\n    id INTEGER PRIMARY KEY,\n    name TEXT\n)",
                Origin("app/db.py", 10),
            ),
            (
                "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);"
                "CREATE INDEX idx_name ON users(name);",
                Origin("app/other.py", 3),
            ),
            ("CREATE TABLE broken (", Origin("app/other.py", 40)),
        ]
    )
    assert schema.source == "code"
    users = schema.table("users")
    assert users is not None
    # The first definition wins: IF NOT EXISTS makes the second a no-op.
    assert users.origin == Origin("app/db.py", 11)
    name = users.column("name")
    assert name is not None and name.origin == Origin("app/db.py", 13)
    assert schema.indexes["idx_name"].origin == Origin("app/other.py", 3)
    assert schema.table("broken") is None


# --- caching ----------------------------------------------------------------------------


def test_rolled_back_work_is_forgotten(tmp_path: Path) -> None:
    write(
        tmp_path,
        "1.sql",
        """
        PRAGMA foreign_keys = ON;
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        BEGIN;
        PRAGMA defer_foreign_keys = ON;
        CREATE TABLE child (parent_id INT REFERENCES parent(id));
        INSERT INTO child VALUES (5);
        """,
    )
    write(
        tmp_path,
        "2.sql",
        """
        BEGIN;
        CREATE TABLE scratch (a);
        ROLLBACK;
        CREATE TABLE kept (a);
        """,
    )
    result = replay_migrations(tmp_path)
    assert result.errors == (
        MigrationError(
            str(tmp_path / "1.sql"),
            6,
            "transaction left open could not commit, rolled back: FOREIGN KEY constraint failed",
        ),
    )
    assert set(result.schema.tables) == {"parent", "kept"}
    assert result.statements_for_table("child") == ()
    assert result.statements_for_table("scratch") == ()
    kept = result.schema.table("kept")
    assert kept is not None and kept.origin == Origin(str(tmp_path / "2.sql"), 4)


def test_dropped_tables_and_columns_are_forgotten(tmp_path: Path) -> None:
    write(
        tmp_path,
        "1.sql",
        """
        CREATE TABLE a (x, y, z);
        CREATE TABLE b (x);
        ALTER TABLE a DROP COLUMN y;
        DROP TABLE b;
        CREATE TABLE b (
            again
        );
        """,
    )
    result = replay_migrations(tmp_path)
    assert result.errors == ()
    a = result.schema.table("a")
    assert a is not None and a.column_names == ("x", "z")
    assert result.column_statement("a", "y") is None
    history = result.statements_for_table("a")
    assert [(s.kind, s.column) for s in history] == [("create_table", None), ("other", "y")]
    b = result.schema.table("b")
    assert b is not None and b.origin == Origin(str(tmp_path / "1.sql"), 5)
    again = b.column("again")
    assert again is not None and again.origin == Origin(str(tmp_path / "1.sql"), 6)
    assert [s.line for s in result.statements_for_table("b")] == [5]


# --- untrusted migrations: the sandbox and its budget -------------------------------------------

FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"


def test_a_statement_that_runs_for_ever_is_stopped_and_the_replay_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "001.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")
    write(
        tmp_path,
        "002.sql",
        f"""
        CREATE TABLE numbers (x INTEGER);
        INSERT INTO numbers {FOREVER}
          SELECT x FROM c;
        CREATE INDEX idx_numbers_x ON numbers(x);
        """,
    )
    write(tmp_path, "003.sql", "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n")
    result = replay_migrations(tmp_path, budget=Budget(deadline=0.3))
    assert [(Path(e.path).name, e.line) for e in result.errors] == [("002.sql", 2)]
    assert result.errors[0].message.startswith("stopped after 0.3 s")
    assert set(result.schema.tables) == {"users", "numbers", "posts"}
    assert "idx_numbers_x" in result.schema.indexes


def test_a_migration_that_fills_memory_is_stopped(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001.sql",
        f"""
        CREATE TABLE blobs (b BLOB);
        INSERT INTO blobs {FOREVER} SELECT randomblob(10000) FROM c;
        CREATE TABLE after (a);
        """,
    )
    result = replay_migrations(tmp_path, budget=Budget(deadline=600, size_cap=2 * 1024 * 1024))
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "stopped: the schema copy grew past 2 MiB")
    ]
    assert set(result.schema.tables) == {"blobs", "after"}


def test_an_interrupted_transaction_is_forgotten(tmp_path: Path) -> None:
    write(
        tmp_path,
        "001.sql",
        f"""
        BEGIN;
        CREATE TABLE inside (a);
        INSERT INTO inside {FOREVER} SELECT x FROM c;
        COMMIT;
        CREATE TABLE outside (a);
        """,
    )
    result = replay_migrations(tmp_path, budget=Budget(deadline=0.3))
    # SQLite rolls the whole transaction back when it interrupts a write inside it.
    assert [e.line for e in result.errors][:1] == [3]
    assert set(result.schema.tables) == {"outside"}
    assert result.statements_for_table("inside") == ()


def test_planted_schema_rows_are_never_run(tmp_path: Path, in_tmp: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(
        tmp_path,
        "m/001.sql",
        f"""
        CREATE TABLE users (id INTEGER PRIMARY KEY);
        PRAGMA writable_schema = 1;
        INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)
          VALUES ('table', 'evil', 'evil', 0, 'VACUUM INTO ''{outside}/v.db''');
        INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)
          VALUES ('table', 'evil2', 'evil2', 0, 'ATTACH ''a.db'' AS a');
        PRAGMA writable_schema = 0;
        VACUUM INTO 'direct.db';
        PRAGMA journal_mode = WAL;
        PRAGMA foreign_keys = ON;
        """,
    )
    result = replay_migrations(tmp_path / "m")
    # The PRAGMAs and VACUUM are left out quietly; writing sqlite_master is reported.
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "not run: writing sqlite_master"),
        (5, "not run: writing sqlite_master"),
    ]
    assert set(result.schema.tables) == {"users"}
    assert all(sql.startswith("CREATE") for sql in result.schema.ddl)
    assert sorted(os.listdir(outside)) == []
    assert sorted(os.listdir(in_tmp)) == ["m", "outside"]


def test_a_replay_that_takes_too_long_in_all_stops(tmp_path: Path) -> None:
    write(tmp_path, "001.sql", "CREATE TABLE a (x);\n")
    write(tmp_path, "002.sql", "CREATE TABLE b (x);\n")
    result = replay_migrations(tmp_path, total=0.0)
    assert [(Path(e.path).name, e.message) for e in result.errors] == [
        ("001.sql", "stopped: replaying took longer than 0 s in all; the rest was not replayed")
    ]
    assert "b" not in result.schema.tables


def test_ddl_in_code_runs_only_schema_definitions_on_a_budget() -> None:
    schema = schema_from_ddl(
        [
            (
                "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
                f"CREATE TABLE numbers AS {FOREVER} SELECT x FROM c;\n"
                "INSERT INTO users VALUES (1);\n"
                "ATTACH 'x.db' AS x;\n"
                "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
                Origin("app.py", 3),
            )
        ],
        budget=Budget(deadline=0.3),
    )
    assert set(schema.tables) == {"users", "posts"}
    assert not Path("x.db").exists()

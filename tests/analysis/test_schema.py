"""Tests of the schema model, read from real SQLite files."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from dbheal_lsp.analysis.schema import (
    ForeignKey,
    LiveDatabase,
    Schema,
    SchemaError,
    oracle_connection,
    schema_from_connection,
    type_affinity,
)
from dbheal_lsp.model import Origin

SHOP = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(20) NOT NULL UNIQUE,
    balance DECIMAL(10,2) DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1,
    created DATETIME DEFAULT CURRENT_TIMESTAMP,
    nickname TEXT DEFAULT 'none',
    ratio DOUBLE PRECISION,
    photo BLOB,
    anything
);
CREATE TABLE order_lines (
    order_id INTEGER NOT NULL,
    line_no INT NOT NULL,
    qty INT,
    price REAL,
    total REAL GENERATED ALWAYS AS (qty * price) STORED,
    label TEXT AS (upper(order_id)),
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE tags (name TEXT PRIMARY KEY, weight INT) WITHOUT ROWID;
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers ON DELETE CASCADE,
    tag TEXT REFERENCES tags(name)
);
CREATE TABLE shipments (
    order_id INTEGER,
    line_no INT,
    FOREIGN KEY (order_id, line_no) REFERENCES order_lines(order_id, line_no)
);
CREATE INDEX idx_orders_customer ON orders(customer_id);
CREATE UNIQUE INDEX idx_customers_nick ON customers(nickname) WHERE nickname IS NOT NULL;
CREATE INDEX idx_customers_lower ON customers(lower(email), id);
CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE balance > 100;
CREATE TRIGGER trg_orders AFTER INSERT ON orders BEGIN
    UPDATE customers SET balance = balance + 1 WHERE id = new.customer_id;
END;
"""


def make_db(path: Path, script: str = SHOP) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Schema:
    with LiveDatabase(make_db(tmp_path / "shop.db")) as db:
        return db.schema()


@pytest.mark.parametrize(
    ("declared", "affinity"),
    [
        ("INTEGER", "INTEGER"),
        ("INT", "INTEGER"),
        ("BIGINT", "INTEGER"),
        ("unsigned big int", "INTEGER"),
        ("VARCHAR(20)", "TEXT"),
        ("NCHAR(55)", "TEXT"),
        ("CLOB", "TEXT"),
        ("text", "TEXT"),
        ("BLOB", "BLOB"),
        ("", "BLOB"),
        ("REAL", "REAL"),
        ("DOUBLE PRECISION", "REAL"),
        ("FLOAT", "REAL"),
        ("DECIMAL(10,2)", "NUMERIC"),
        ("BOOLEAN", "NUMERIC"),
        ("DATETIME", "NUMERIC"),
        ("NUMERIC", "NUMERIC"),
        # The rules are tested in order, as SQLite does.
        ("CHARINT", "INTEGER"),
        ("FLOATING POINT", "INTEGER"),
        ("BLOBTEXT", "TEXT"),
    ],
)
def test_type_affinity_follows_sqlite_rules(declared: str, affinity: str) -> None:
    assert type_affinity(declared) == affinity


def test_columns_types_affinities_defaults_and_not_null(shop: Schema) -> None:
    table = shop.table("customers")
    assert table is not None
    got = {c.name: (c.declared_type, c.affinity, c.not_null, c.default) for c in table.columns}
    assert got == {
        "id": ("INTEGER", "INTEGER", False, None),
        "email": ("VARCHAR(20)", "TEXT", True, None),
        "balance": ("DECIMAL(10,2)", "NUMERIC", False, "0"),
        "active": ("BOOLEAN", "NUMERIC", True, "1"),
        "created": ("DATETIME", "NUMERIC", False, "CURRENT_TIMESTAMP"),
        "nickname": ("TEXT", "TEXT", False, "'none'"),
        "ratio": ("DOUBLE PRECISION", "REAL", False, None),
        "photo": ("BLOB", "BLOB", False, None),
        "anything": ("", "BLOB", False, None),
    }
    assert table.column_names[0] == "id"
    assert table.primary_key == ("id",)
    assert table.rowid_alias == "id"
    assert table.has_rowid and not table.without_rowid and not table.is_view
    assert table.sql is not None and table.sql.startswith("CREATE TABLE customers")
    assert table.origin is None and all(c.origin is None for c in table.columns)


def test_column_lookup_is_case_insensitive(shop: Schema) -> None:
    table = shop.table("CUSTOMERS")
    assert table is not None
    column = table.column("EMAIL")
    assert column is not None and column.name == "email"
    assert table.column('"Email"') is column
    assert table.column("missing") is None


def test_table_lookup_accepts_case_schema_and_quotes(shop: Schema) -> None:
    table = shop.table("customers")
    assert table is not None
    assert shop.table("Customers") is table
    assert shop.table("main.customers") is table
    assert shop.table('"customers"') is table
    assert shop.table('main."Customers"') is table
    assert shop.table("nothing") is None


def test_composite_primary_key_and_generated_columns(shop: Schema) -> None:
    table = shop.table("order_lines")
    assert table is not None
    assert table.primary_key == ("order_id", "line_no")
    assert table.rowid_alias is None
    assert table.has_rowid
    hidden = {c.name: c.hidden for c in table.columns}
    assert hidden == {
        "order_id": 0,
        "line_no": 0,
        "qty": 0,
        "price": 0,
        "total": 3,  # STORED
        "label": 2,  # VIRTUAL
    }
    total = table.column("total")
    assert total is not None and total.is_generated and total.affinity == "REAL"
    assert [c.primary_key for c in table.columns] == [1, 2, 0, 0, 0, 0]


def test_without_rowid(shop: Schema) -> None:
    tags = shop.table("tags")
    assert tags is not None
    assert tags.without_rowid and not tags.has_rowid
    assert tags.primary_key == ("name",)
    assert tags.rowid_alias is None
    # A TEXT primary key of a rowid table also gets a "pk" index, but keeps its rowid.
    customers = shop.table("customers")
    lines = shop.table("order_lines")
    assert customers is not None and not customers.without_rowid
    assert lines is not None and not lines.without_rowid


def test_indexes_unique_partial_expression_and_automatic(shop: Schema) -> None:
    by_name = shop.indexes
    orders_customer = by_name["idx_orders_customer"]
    assert orders_customer.table == "orders"
    assert orders_customer.columns == ("customer_id",)
    assert not orders_customer.unique and not orders_customer.partial
    assert orders_customer.sql == "CREATE INDEX idx_orders_customer ON orders(customer_id)"

    nick = by_name["idx_customers_nick"]
    assert nick.unique and nick.partial and nick.columns == ("nickname",)

    lowered = by_name["idx_customers_lower"]
    assert lowered.columns == ("<expr>", "id")
    assert not lowered.is_automatic

    automatic = [i for i in shop.indexes_on("customers") if i.is_automatic]
    assert [(i.columns, i.unique, i.sql) for i in automatic] == [(("email",), True, None)]
    # The primary key of a WITHOUT ROWID table is an index that sqlite_master does not list.
    (tags_pk,) = shop.indexes_on("TAGS")
    assert tags_pk.columns == ("name",) and tags_pk.unique
    assert {i.name for i in shop.indexes_on("customers")} == {
        "sqlite_autoindex_customers_1",
        "idx_customers_nick",
        "idx_customers_lower",
    }


def test_foreign_keys(shop: Schema) -> None:
    orders = shop.table("orders")
    shipments = shop.table("shipments")
    assert orders is not None and shipments is not None
    assert set(orders.foreign_keys) == {
        # REFERENCES without columns means the parent's primary key.
        ForeignKey("orders", ("customer_id",), "customers", ("id",), "NO ACTION", "CASCADE"),
        ForeignKey("orders", ("tag",), "tags", ("name",)),
    }
    assert shipments.foreign_keys == (
        ForeignKey("shipments", ("order_id", "line_no"), "order_lines", ("order_id", "line_no")),
    )
    customers = shop.table("customers")
    assert customers is not None and customers.foreign_keys == ()


def test_views_and_triggers(shop: Schema) -> None:
    view = shop.table("big_customers")
    assert view is not None
    assert view.is_view and not view.has_rowid
    assert view.column_names == ("id", "email")
    assert shop.indexes_on("big_customers") == ()

    trigger = shop.triggers["trg_orders"]
    assert trigger.table == "orders"
    assert trigger.sql is not None and "balance + 1" in trigger.sql
    assert shop.triggers_on("ORDERS") == (trigger,)


def test_ddl_order_and_replay(shop: Schema) -> None:
    kinds = [statement.split()[1].upper() for statement in shop.ddl]
    assert kinds == ["TABLE"] * 5 + ["INDEX", "UNIQUE", "INDEX", "VIEW", "TRIGGER"]
    assert not any("sqlite_" in statement for statement in shop.ddl)

    oracle = oracle_connection(shop)
    try:
        copy = schema_from_connection(oracle, "database")
    finally:
        oracle.close()
    assert copy.ddl == shop.ddl
    assert copy.tables == shop.tables
    assert copy.indexes == shop.indexes
    assert copy.version == shop.version


def test_oracle_skips_statements_that_fail(tmp_path: Path) -> None:
    script = "CREATE VIRTUAL TABLE docs USING fts5(body); CREATE TABLE plain (a INT);"
    with LiveDatabase(make_db(tmp_path / "fts.db", script)) as db:
        schema = db.schema()
    # The fts5 shadow tables are in the DDL but already exist once "docs" is created.
    assert schema.table("docs_data") is not None
    broken = Schema(ddl=(*schema.ddl, "CREATE TABLE nonsense ("), source="database", version="x")
    oracle = oracle_connection(broken)
    try:
        names = {row[0] for row in oracle.execute("SELECT name FROM sqlite_master")}
        oracle.execute("SELECT body FROM docs WHERE docs MATCH 'x'").fetchall()
    finally:
        oracle.close()
    assert {"docs", "docs_data", "plain"} <= names


def test_origins_are_attached(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE t (a INT, b INT UNIQUE); CREATE INDEX i ON t(a);")
    origins = {
        ("table", "t"): Origin("m.sql", 1),
        ("column", "t", "a"): Origin("m.sql", 2),
        ("index", "i"): Origin("m.sql", 5),
    }
    schema = schema_from_connection(conn, "migrations", origins)
    plain = schema_from_connection(conn, "migrations")
    conn.close()
    table = schema.table("t")
    assert table is not None
    assert table.origin == Origin("m.sql", 1)
    assert [c.origin for c in table.columns] == [Origin("m.sql", 2), Origin("m.sql", 1)]
    assert schema.indexes["i"].origin == Origin("m.sql", 5)
    assert schema.indexes["sqlite_autoindex_t_1"].origin == Origin("m.sql", 1)
    assert schema.source == "migrations"
    # Moving a definition to another line must invalidate what was cached for the old one.
    assert schema.version != plain.version
    assert schema != plain


def test_empty_schema() -> None:
    empty = Schema.empty()
    assert empty.is_empty and empty.source == "empty"
    assert empty.table("x") is None and empty.ddl == ()
    assert Schema.empty() == empty and hash(Schema.empty()) == hash(empty)


# --- the live database ------------------------------------------------------------------


def test_read_only_open_changes_nothing(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db")
    before_bytes = path.read_bytes()
    old = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(old, old))
    before_mtime = path.stat().st_mtime_ns

    db = LiveDatabase(path)
    assert db.schema().table("customers") is not None
    conn = db.connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("CREATE TABLE intruder (a)")
    conn.close()
    db.close()

    assert path.read_bytes() == before_bytes
    assert path.stat().st_mtime_ns == before_mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_path_with_spaces_question_mark_and_hash(tmp_path: Path) -> None:
    folder = tmp_path / "my data #1?"
    folder.mkdir()
    path = make_db(folder / "app ?x=1#frag.db", "CREATE TABLE t (a);")
    with LiveDatabase(path) as db:
        assert db.schema().table("t") is not None
    assert sorted(p.name for p in folder.iterdir()) == ["app ?x=1#frag.db"]


def test_schema_is_cached_until_schema_version_changes(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    with LiveDatabase(path) as db:
        first = db.schema()
        assert first.source == "database"
        assert db.schema() is first

        writer = sqlite3.connect(path)
        writer.execute("INSERT INTO a VALUES (1)")
        writer.commit()
        assert db.schema() is first  # data changes do not re-read the schema

        writer.execute("CREATE TABLE b (y)")
        writer.commit()
        writer.close()
        second = db.schema()
        assert second is not first
        assert second.table("b") is not None
        assert second.version != first.version
        assert db.schema() is second


def test_replaced_file_is_read_again(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    other = make_db(tmp_path / "other.db", "CREATE TABLE z (x);")
    with LiveDatabase(path) as db:
        assert db.schema().table("a") is not None
        os.replace(other, path)
        schema = db.schema()
        assert schema.table("z") is not None and schema.table("a") is None
        path.unlink()
        with pytest.raises(SchemaError, match="database file not found"):
            db.schema()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(SchemaError) as info:
        LiveDatabase(path).schema()
    assert info.value.message == f"database file not found: {path}"
    assert str(info.value) == info.value.message
    assert not path.exists()


def test_text_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("CREATE TABLE users (id INTEGER);\n")
    with pytest.raises(SchemaError) as info:
        LiveDatabase(path).schema()
    assert info.value.message == f"{path} is not a SQLite database"


def test_random_bytes_are_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(b"\x00\xff" + os.urandom(8190))
    with pytest.raises(SchemaError, match=r"is not a SQLite database$"):
        LiveDatabase(path).schema()


def test_zero_byte_file_is_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    schema = LiveDatabase(path).schema()
    assert schema.is_empty and schema.source == "database" and schema.ddl == ()
    assert path.stat().st_size == 0


def test_corrupt_database(tmp_path: Path) -> None:
    path = make_db(tmp_path / "broken.db")
    data = bytearray(path.read_bytes())
    # Keep the 100-byte header, garble the schema page that follows it.
    data[100:1000] = b"\xa5" * 900
    path.write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"^database file is corrupt: .*broken\.db"):
        LiveDatabase(path).schema()


def test_locked_by_exclusive_writer(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        db = LiveDatabase(path, busy_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(SchemaError) as info:
            db.schema()
        assert time.monotonic() - started < 5
        assert info.value.message == f"database is locked by another connection: {path}"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert db.schema().table("a") is not None
    db.close()


def test_locked_after_schema_was_cached(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE a (x);")
    with LiveDatabase(path, busy_timeout=0.1) as db:
        db.schema()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(SchemaError, match="database is locked by another connection"):
                db.schema()
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert db.schema().table("a") is not None


def _schema_error_as_nobody(path: Path) -> str:
    """Read `path` in a forked child that has dropped root: chmod does not stop root."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, try, report the message, exit at once
        os.close(read_end)
        message = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            LiveDatabase(path).schema()
        except SchemaError as exc:
            message = exc.message
        except BaseException as exc:  # the parent asserts on whatever happened
            message = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_unreadable_file(tmp_path: Path) -> None:
    path = make_db(tmp_path / "secret.db", "CREATE TABLE a (x);")
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            message = _schema_error_as_nobody(path)
        else:
            with pytest.raises(SchemaError) as info:
                LiveDatabase(path).schema()
            message = info.value.message
        assert message == f"permission denied: cannot read database file {path}"
    finally:
        path.chmod(0o644)


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as info:
        LiveDatabase(tmp_path).schema()
    assert info.value.message == f"{tmp_path} is a directory, not a SQLite database file"

"""Tests of the schema model, read from real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.schema import ForeignKey, Schema, type_affinity
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.live_db import LiveDatabase

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


def schema_of(script: str, source: str = "test") -> Schema:
    """Return the schema an in-memory database gets from running `script`."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(script)
    found = schema_from_connection(conn, source)
    conn.close()
    return found


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


def test_empty_schema() -> None:
    empty = Schema.empty()
    assert empty.is_empty and empty.source == "empty"
    assert empty.table("x") is None and empty.ddl == ()
    assert Schema.empty() == empty and hash(Schema.empty()) == hash(empty)

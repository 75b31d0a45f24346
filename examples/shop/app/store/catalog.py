"""The product catalog: browsing, lookups and stock."""

from __future__ import annotations

import sqlite3

from app.db import get_db, transaction

PAGE_SIZE = 20


def products_in_category(category: str) -> list[sqlite3.Row]:
    db = get_db()
    return db.execute(
        "SELECT id, sku, name, price_cents, stock FROM products WHERE category = ? ORDER BY name",
        (category,),
    ).fetchall()


def newest_products() -> list[sqlite3.Row]:
    db = get_db()
    return db.execute(f"SELECT id, sku, name, price_cents FROM products ORDER BY id DESC LIMIT {PAGE_SIZE}").fetchall()


def list_products(sort: str = "name") -> list[sqlite3.Row]:
    """The catalog page; `sort` comes straight from the ?sort= query parameter."""
    db = get_db()
    # dbheal: planted DYNAMIC_IDENTIFIER
    return db.execute(f"SELECT id, sku, name, price_cents FROM products ORDER BY {sort}").fetchall()


def browse(category: str) -> list[sqlite3.Row]:
    """The old category page, still linked from the newsletter."""
    db = get_db()
    # dbheal: planted SQL_INJECTION
    return db.execute(f"SELECT id, name, price_cents FROM products WHERE category = '{category}'").fetchall()


def get_product(product_id: int) -> sqlite3.Row | None:
    db = get_db()
    return db.execute(
        "SELECT id, sku, name, category, price_cents, stock FROM products WHERE id = ?",
        (product_id,),
    ).fetchone()


def get_by_sku(sku: str) -> sqlite3.Row | None:
    """Look a product up by the SKU printed on its barcode label."""
    db = get_db()
    # dbheal: planted TYPE_MISMATCH
    return db.execute("SELECT id, name, price_cents, stock FROM products WHERE sku = ?", (int(sku),)).fetchone()


# Signature drinks: the café's own blends, shown first on the home page (« Café crème », « Thé vert »).
def signature_drinks(category: str = "drinks") -> list[sqlite3.Row]:
    db = get_db()
    # dbheal: planted MISSING_COLUMN
    return db.execute("SELECT id, name, price_cents FROM products WHERE name IN ('Café crème', 'Thé vert 🍵') AND categroy = ?", (category,)).fetchall()


def add_product(sku: str, name: str, category: str, price_cents: int, stock: int = 0) -> int:
    with transaction() as db:
        cur = db.execute(
            # dbheal: planted SQL_SYNTAX
            "INSERT INTO products (sku, name category, price_cents, stock) VALUES (?, ?, ?, ?, ?)",
            (sku, name, category, price_cents, stock),
        )
    return int(cur.lastrowid or 0)


def set_price(product_id: int, price_cents: int) -> None:
    with transaction() as db:
        db.execute(
            "UPDATE products SET price_cents = ? WHERE id = ?",
            (int(price_cents), product_id),
        )


def restock_house_blends() -> None:
    """Monday morning delivery from the roaster."""
    with transaction() as db:
        db.executemany(
            "UPDATE products SET stock = stock + ? WHERE sku = ?",
            [(24, "CAF-001"), (12, "CAF-002"), (12, "THE-001")],
        )

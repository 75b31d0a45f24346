"""Orders: checkout, order history, fulfilment."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from app.db import get_db, transaction


class OutOfStock(Exception):
    pass


def place_order(user_id: int | None, email: str, cart: Sequence[tuple[int, int]]) -> int:
    """Create an order from a cart of (product_id, quantity) pairs; return the order id."""
    with transaction() as db:
        lines = []
        for product_id, quantity in cart:
            product = db.execute(
                "SELECT price_cents, stock FROM products WHERE id = ?",
                (product_id,),
            ).fetchone()
            if product is None or product["stock"] < quantity:
                raise OutOfStock(product_id)
            lines.append((product_id, quantity, round(product["price_cents"])))
        total = sum(quantity * price for _, quantity, price in lines)
        cur = db.execute(
            "INSERT INTO orders (user_id, customer_email, status, total_cents, created_at) "
            "VALUES (?, ?, 'pending', ?, ?)",
            (user_id, email, total, int(time.time())),
        )
        order_id = int(cur.lastrowid or 0)
        db.executemany(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)",
            [(order_id, product_id, quantity, price) for product_id, quantity, price in lines],
        )
        db.executemany(
            "UPDATE products SET stock = stock - ? WHERE id = ?",
            [(quantity, product_id) for product_id, quantity, _ in lines],
        )
    return order_id


def get_order(order_id: int) -> sqlite3.Row | None:
    db = get_db()
    # Not reported: int() cannot carry SQL, and orders.id is an INTEGER column.
    return db.execute(f"SELECT id, status, total_cents, created_at FROM orders WHERE id = {int(order_id)}").fetchone()


def order_lines(order_id: int) -> list[sqlite3.Row]:
    """The lines of an order, with product names, for the receipt."""
    db = get_db()
    return db.execute(
        """
        SELECT i.quantity, i.unit_price_cents, p.sku,
               -- dbheal: planted MISSING_COLUMN
               p.nmae
        FROM order_items AS i
        JOIN products AS p ON p.id = i.product_id
        WHERE i.order_id = ?
        ORDER BY i.id
        """,
        (order_id,),
    ).fetchall()


def search_orders(user_id: int, status: str | None = None, since: int | None = None) -> list[sqlite3.Row]:
    """The 'my orders' page, with optional status and date filters."""
    db = get_db()
    sql = "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = ?"
    params: list[object] = [user_id]
    if status:
        sql += " AND status = ?"
        params.append(status)
    if since is not None:
        sql += " AND created_at >= ?"
        params.append(since)
    sql += " ORDER BY created_at DESC"
    return db.execute(sql, params).fetchall()


def orders_by_status(status: str) -> list[sqlite3.Row]:
    """The warehouse screen; `status` comes from a drop-down, or from whoever edits the URL."""
    db = get_db()
    # dbheal: planted SQL_INJECTION
    return db.execute("SELECT id, customer_email, total_cents FROM orders WHERE status = '{}'".format(status)).fetchall()


def find_orders_for_email(email: str) -> list[sqlite3.Row]:
    """Guest order lookup: runs on every visit to the 'track my order' page."""
    db = get_db()
    return db.execute(
        "SELECT id, status, total_cents, created_at FROM orders "
        # dbheal: planted MISSING_INDEX
        "WHERE customer_email = ? ORDER BY id DESC",
        (email,),
    ).fetchall()


def mark_shipped(order_id: int, tracking_number: str) -> None:
    with transaction() as db:
        db.execute(
            # dbheal: planted MISSING_COLUMN
            "UPDATE orders SET status = 'shipped', tracking_number = ? WHERE id = ?",
            (tracking_number, order_id),
        )


def cancel_order(order_id: int) -> bool:
    """Cancel a pending order and put its items back in stock."""
    with transaction() as db:
        cur = db.execute(
            "UPDATE orders SET status = 'cancelled' WHERE id = ? AND status = 'pending'",
            (order_id,),
        )
        if cur.rowcount == 0:
            return False
        db.execute(
            """
            UPDATE products
            SET stock = stock + (
                SELECT SUM(i.quantity) FROM order_items AS i
                WHERE i.order_id = :order_id AND i.product_id = products.id
            )
            WHERE id IN (SELECT product_id FROM order_items WHERE order_id = :order_id)
            """,
            {"order_id": order_id},
        )
    return True

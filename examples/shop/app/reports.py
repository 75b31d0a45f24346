"""Back-office reports: daily sales, best sellers, activity and table sizes."""

from __future__ import annotations

import sqlite3
from datetime import date

from app.db import get_db, quote_ident

TABLES = ("users", "sessions", "products", "orders", "order_items", "daily_sales")


def refresh_daily_sales() -> None:
    """Rebuild the daily_sales roll-up from the orders (nightly cron job)."""
    db = get_db()
    db.executescript(
        """
        BEGIN;
        DELETE FROM daily_sales;
        INSERT INTO daily_sales (day, order_count, revenue_cents)
        SELECT date(created_at, 'unixepoch'), COUNT(*), SUM(total_cents)
        FROM orders
        WHERE status IN ('pending', 'paid', 'shipped')
        GROUP BY date(created_at, 'unixepoch');
        COMMIT;
        """
    )


def recent_sales() -> list[sqlite3.Row]:
    db = get_db()
    # dbheal: planted SELECT_STAR
    return db.execute("SELECT * FROM daily_sales ORDER BY day DESC LIMIT 30").fetchall()


def sales_for_day(day: str) -> sqlite3.Row | None:
    """`day` is the YYYY-MM-DD the manager typed into the report form."""
    db = get_db()
    # dbheal: planted SQL_INJECTION
    return db.execute("SELECT day, order_count, revenue_cents FROM daily_sales WHERE day = '" + day + "'").fetchone()


def top_products(since: int, limit: int = 10) -> list[sqlite3.Row]:
    """Best sellers by revenue (paid and shipped orders) since a unix time."""
    db = get_db()
    return db.execute(
        """
        SELECT p.id, p.name,
               SUM(i.quantity) AS units,
               SUM(i.quantity * i.unit_price_cents) AS revenue_cents
        FROM orders AS o
        JOIN order_items AS i ON i.order_id = o.id
        JOIN products AS p ON p.id = i.product_id
        WHERE o.status IN ('paid', 'shipped') AND o.created_at >= ?
        GROUP BY p.id, p.name
        ORDER BY revenue_cents DESC
        LIMIT ?
        """,
        (since, limit),
    ).fetchall()


def pending_count() -> int:
    db = get_db()
    # dbheal: planted MISSING_TABLE
    row = db.execute("SELECT COUNT(*) FROM oders WHERE status = 'pending'").fetchone()
    return int(row[0])


def active_users(since: date) -> int:
    """Accounts that signed in since a day (last_login_at is stored as 'YYYY-MM-DD HH:MM:SS')."""
    db = get_db()
    row = db.execute("SELECT COUNT(*) FROM users WHERE last_login_at >= ?", (str(since),)).fetchone()
    return int(row[0])


def table_sizes() -> dict[str, int]:
    """Row counts for the admin dashboard."""
    db = get_db()
    return {
        table: db.execute(f"SELECT COUNT(*) FROM {quote_ident(table)}").fetchone()[0]
        for table in TABLES
    }


def row_count(table: str) -> int:
    """Row count of one table, for the admin dashboard's 'refresh' button."""
    db = get_db()
    # dbheal: planted DYNAMIC_IDENTIFIER
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def sales_between(start: date, end: date) -> list[sqlite3.Row]:
    """Daily totals from `start` up to (not including) `end`, for the CSV export."""
    db = get_db()
    return db.execute(
        "SELECT day, order_count, revenue_cents FROM daily_sales WHERE day >= ? AND day < ? ORDER BY day",
        # dbheal: planted PARAMETER_MISMATCH
        (start.isoformat(),),
    ).fetchall()

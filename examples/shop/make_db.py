"""Build examples/shop/shop.db from scratch, the way production got to where it is.

    python3 examples/shop/make_db.py

1. apply migrations 001-003 (004 and 005 have never been applied to this database);
2. apply db/hotfix_2024_03.sql, the change made by hand in production that no migration records
   (it rebuilt `products` with price_cents REAL where migration 003 says INTEGER);
3. insert a little seed data, so that the database looks lived in.

Standard library only. The database file is deleted first and never committed.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "shop.db"
APPLIED_MIGRATIONS = ("001_users.sql", "002_sessions.sql", "003_catalog_orders.sql")
HOTFIX = HERE / "db" / "hotfix_2024_03.sql"

# 2024-03-04 09:00:00 UTC and friends: fixed times, so every build is the same.
T0 = 1709542800
DAY = 86400

USERS = [
    (1, "ada@example.com", "Ada", 1, T0 - 90 * DAY, "2024-03-04 08:55:10"),
    (2, "grace@example.com", "Grace", 0, T0 - 60 * DAY, "2024-03-03 17:21:44"),
    (3, "linus@example.com", "Linus", 0, T0 - 30 * DAY, None),
    (4, "margaret@example.com", "Margaret", 0, T0 - 5 * DAY, "2024-02-28 12:02:19"),
]

# user_id is stored as text, as the sessions table (migration 002) has always declared it.
SESSIONS = [
    ("7f3c0a9e1b2d4c5e", "1", "tok-ada-laptop", T0 - 2 * DAY, T0 + 12 * DAY),
    ("0b8e6d4a2c1f3e5d", "1", "tok-ada-phone", T0 - DAY, T0 + 13 * DAY),
    ("c2d4e6f8a0b1c3d5", "2", "tok-grace-laptop", T0 - 3 * DAY, T0 + 11 * DAY),
    ("9a8b7c6d5e4f3a2b", "4", "tok-margaret-old", T0 - 20 * DAY, T0 - 6 * DAY),
]

PRODUCTS = [
    (1, "CAF-001", "Café crème", "drinks", 350, 40),
    (2, "CAF-002", "Espresso", "drinks", 250, 60),
    (3, "THE-001", "Thé vert 🍵", "drinks", 300, 25),
    (4, "PAT-001", "Croissant", "bakery", 180, 30),
    (5, "PAT-002", "Pain au chocolat", "bakery", 210, 24),
    (6, "MUG-001", "Stoneware mug", "merch", 1450, 12),
    (7, "BAG-001", "House blend beans 1 kg", "beans", 2390, 8),
    # Imported from the EUR price list: fractional cents, the reason for the hotfix.
    (8, "BAG-002", "Ethiopia Yirgacheffe 250 g", "beans", 1149.5, 15),
]

ORDERS = [
    (1, 1, "ada@example.com", "shipped", 950, T0 - 10 * DAY),
    (2, 2, "grace@example.com", "pending", 2390, T0 - 2 * DAY),
    (3, None, "guest.buyer@example.net", "pending", 570, T0 - DAY),
    (4, 4, "margaret@example.com", "cancelled", 1450, T0 - 4 * DAY),
    (5, 1, "ada@example.com", "paid", 600, T0 - 3600),
]

ORDER_ITEMS = [
    (1, 1, 1, 2, 350),
    (2, 1, 2, 1, 250),
    (3, 2, 7, 1, 2390),
    (4, 3, 4, 2, 180),
    (5, 3, 5, 1, 210),
    (6, 4, 6, 1, 1450),
    (7, 5, 3, 2, 300),
]


def password_hash(password: str, salt: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1_000)
    return f"{salt}${digest.hex()}"


def build(path: Path = DB_FILE) -> None:
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for name in APPLIED_MIGRATIONS:
            db.executescript((HERE / "migrations" / name).read_text(encoding="utf-8"))
        db.execute("PRAGMA user_version = 3")
        db.executescript(HOTFIX.read_text(encoding="utf-8"))

        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO users (id, email, password_hash, display_name, is_admin, created_at, last_login_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (uid, email, password_hash("correct horse", email), name, admin, created, last_login)
                for uid, email, name, admin, created, last_login in USERS
            ],
        )
        db.executemany(
            "INSERT INTO sessions (id, user_id, token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            SESSIONS,
        )
        db.executemany(
            "INSERT INTO products (id, sku, name, category, price_cents, stock) VALUES (?, ?, ?, ?, ?, ?)",
            PRODUCTS,
        )
        db.executemany(
            "INSERT INTO orders (id, user_id, customer_email, status, total_cents, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ORDERS,
        )
        db.executemany(
            "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price_cents) "
            "VALUES (?, ?, ?, ?, ?)",
            ORDER_ITEMS,
        )
        db.execute(
            "INSERT INTO daily_sales (day, order_count, revenue_cents) "
            "SELECT date(created_at, 'unixepoch'), COUNT(*), SUM(total_cents) FROM orders "
            "WHERE status IN ('pending', 'paid', 'shipped') GROUP BY date(created_at, 'unixepoch')"
        )
        db.execute("COMMIT")
    finally:
        db.close()


def main() -> int:
    build()
    print(f"built {DB_FILE}")
    print(f"  applied: {', '.join(APPLIED_MIGRATIONS)}, then db/{HOTFIX.name}")
    print("  not applied: 004_user_preferences.sql, 005_order_tracking.sql")
    return 0


if __name__ == "__main__":
    sys.exit(main())

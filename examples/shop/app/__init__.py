"""A small shop: accounts, sessions, a catalog, orders and sales reports, on stdlib sqlite3."""

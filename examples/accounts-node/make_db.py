"""Build examples/accounts-node/accounts.db from scratch, the way production got to where it is.

    python3 examples/accounts-node/make_db.py

Migrations 001-003 are applied (004, user_preferences, never was: its deploy was rolled back),
then a little seed data, with the sessions' user_id stored as text as migration 002 declares it.
Standard library only (the app itself needs Node; building its database does not). The
database file is deleted first and never committed.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "accounts.db"
APPLIED_MIGRATIONS = ("001_users.sql", "002_sessions.sql", "003_login_attempts.sql")

T0 = 1709542800  # 2024-03-04 09:00:00 UTC: fixed times, so every build is the same
DAY = 86400

USERS = [
    (1, "ada@example.com", "salt-ada$00", "Ada", T0 - 90 * DAY),
    (2, "grace@example.com", "salt-grace$00", "Grace", T0 - 60 * DAY),
    (3, "linus@example.com", "salt-linus$00", "Linus", T0 - 30 * DAY),
]

SESSIONS = [
    ("7f3c0a9e-1b2d-4c5e-9a8b-000000000001", "1", "tok-ada-laptop", T0 - 2 * DAY),
    ("7f3c0a9e-1b2d-4c5e-9a8b-000000000002", "1", "tok-ada-phone", T0 - DAY),
    ("7f3c0a9e-1b2d-4c5e-9a8b-000000000003", "2", "tok-grace-laptop", T0 - 3 * DAY),
]


def build(path: Path = DB_FILE) -> None:
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for name in APPLIED_MIGRATIONS:
            db.executescript((HERE / "migrations" / name).read_text(encoding="utf-8"))
        db.execute("PRAGMA user_version = 3")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO users (id, email, password_hash, display_name, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            USERS,
        )
        db.executemany(
            "INSERT INTO sessions (id, user_id, token, created_at) VALUES (?, ?, ?, ?)",
            SESSIONS,
        )
        db.execute("COMMIT")
    finally:
        db.close()


def main() -> int:
    build()
    print(f"built {DB_FILE}")
    print(f"  applied: {', '.join(APPLIED_MIGRATIONS)}")
    print("  not applied: 004_user_preferences.sql")
    return 0


if __name__ == "__main__":
    sys.exit(main())

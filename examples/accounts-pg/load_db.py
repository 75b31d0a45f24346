"""Load migrations 001-003 into the PostgreSQL database named by the first argument (or
DATABASE_URL), as the deploy did before 004 was rolled back.

    python load_db.py postgresql://app@localhost/accounts
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg

APPLIED = ("001_accounts.sql", "002_ledger.sql", "003_sessions.sql")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ["DATABASE_URL"]
    folder = Path(__file__).resolve().parent / "migrations"
    with psycopg.connect(url, autocommit=True) as conn:
        for name in APPLIED:
            conn.execute((folder / name).read_text(encoding="utf-8").encode())


if __name__ == "__main__":
    main()

"""`DatabaseError` catches what the SQLite driver raises, so code above the seam needs no driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.sqlite.live_db import open_read_only


def test_database_error_catches_a_driver_error_from_a_real_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a header and nothing sane after it
    with pytest.raises(DatabaseError):
        open_read_only(db).execute("SELECT * FROM sqlite_master").fetchall()

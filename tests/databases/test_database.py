"""The database seam's error: one line for the user, raised by the SQLite back end too."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.sqlite.live_db import open_read_only


def test_schema_error_keeps_the_line_meant_for_the_user() -> None:
    error = SchemaError("database file not found: app.db")
    assert error.message == "database file not found: app.db"
    assert str(error) == "database file not found: app.db"


def test_the_sqlite_back_end_raises_the_seams_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="database file not found"):
        open_read_only(tmp_path / "missing.db")

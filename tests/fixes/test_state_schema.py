"""Tests of the state file's tables and their migrations (dbheal_lsp/fixes/state_schema.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.fixes.state import StateError, StateStore, state_path
from dbheal_lsp.fixes.state_schema import MIGRATIONS, SCHEMA_VERSION, migrate
from tests.fixes.test_state import make_record

# --- the file ---------------------------------------------------------------------------------


def test_store_creates_a_versioned_wal_file(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        assert store.path == tmp_path / ".dbheal" / "state.sqlite" == state_path(tmp_path)
        assert store.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / ".dbheal" / "state.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_later_migration_adds_a_column_to_an_existing_file(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        store.record_fix(make_record(store))

    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE fixes ADD COLUMN reviewer TEXT")

    conn = sqlite3.connect(state_path(tmp_path), isolation_level=None)
    assert migrate(conn, (*MIGRATIONS, add_column)) == SCHEMA_VERSION
    assert migrate(conn, (*MIGRATIONS, add_column)) == SCHEMA_VERSION + 1  # runs once only
    columns = [row[1] for row in conn.execute("PRAGMA table_info(fixes)")]
    assert columns[-1] == "reviewer"
    conn.close()
    # This version still reads a file a newer version migrated: it only added a column.
    with StateStore(tmp_path) as store:
        assert store.schema_version() == SCHEMA_VERSION + 1
        assert len(store.fixes()) == 1


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    state_path(tmp_path).parent.mkdir(parents=True)
    state_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match=r"state\.sqlite"):
        StateStore(tmp_path)

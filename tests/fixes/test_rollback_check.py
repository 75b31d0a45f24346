"""Tests of the checks after a rollback: real files and real SQLite databases, no mocks."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from dbheal_lsp.backups import FILES_SUBDIR
from dbheal_lsp.fixes.rollback_check import check_restored, database_summary
from dbheal_lsp.model import VerifyReport
from dbheal_lsp.records import FixRecord, utc_now


def _record(files: tuple[str, ...] = (), database: str | None = None) -> FixRecord:
    return FixRecord(
        id="20261204T000000-abcd",
        created_at=utc_now(),
        kind="code" if files else "schema",
        title="a fix",
        issue_fingerprint="fp",
        plan_id="p",
        plan_text="",
        plan_json="[]",
        database=database,
        files=files,
        backup_dir=".dbheal/backups/20261204T000000-abcd",
        verify=VerifyReport(()),
    )


def _shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE INDEX users_name ON users(name);"
        "INSERT INTO users (name) VALUES ('ada'), ('bob');"
    )
    conn.commit()
    conn.close()
    return path


def test_files_put_back_byte_for_byte_pass_and_others_are_named(tmp_path: Path) -> None:
    record = _record(files=("app/db.py", "app/new.py"))
    saved = tmp_path / str(record.backup_dir) / FILES_SUBDIR / "app"
    saved.mkdir(parents=True)
    (saved / "db.py").write_bytes(b"cur.execute('SELECT 1')\r\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_bytes(b"cur.execute('SELECT 1')\r\n")
    # app/new.py was absent before the fix: put back means gone.
    report = check_restored(tmp_path, record, None, None)
    assert report.ok
    assert report.checks[0].detail == "2 file(s) as before the fix"
    (tmp_path / "app" / "new.py").write_text("x = 1\n")
    (tmp_path / "app" / "db.py").write_bytes(b"cur.execute('SELECT 1')\n")
    [failed] = check_restored(tmp_path, record, None, None).failures()
    assert (failed.name, failed.detail) == (
        "files restored",
        "differ from the backup: app/db.py, app/new.py",
    )


def test_database_summary_has_each_objects_schema_and_row_count(tmp_path: Path) -> None:
    summary = database_summary(_shop(tmp_path / "shop.db"))
    assert summary == {
        "users_name": ("CREATE INDEX users_name ON users(name)", -1),
        "users": ("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", 2),
    }


def test_a_restored_database_must_match_its_backup(tmp_path: Path) -> None:
    live = _shop(tmp_path / "shop.db")
    copy = tmp_path / "backup.db"
    shutil.copyfile(live, copy)
    record = _record(database="shop.db")
    report = check_restored(tmp_path, record, copy, live)
    assert report.ok
    assert report.checks[0].detail == "schema and row counts of 2 objects match the backup"
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO users (name) VALUES ('eve')")
    conn.commit()
    conn.close()
    [failed] = check_restored(tmp_path, record, copy, live).failures()
    assert (failed.name, failed.detail) == (
        "database restored",
        "schema or row counts differ from the backup",
    )
    # A database that was not restored from a copy (an inverse change) is not compared.
    assert check_restored(tmp_path, record, None, live).checks == ()

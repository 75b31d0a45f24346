"""The database fingerprint a whole-file restore depends on, and what a restore would drop."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dbheal_lsp.databases.sqlite.fingerprint import database_fingerprint, describe_loss, rows_lost


def _make(path: Path, journal_mode: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("CREATE TABLE k (a TEXT PRIMARY KEY, b INTEGER) WITHOUT ROWID")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"v{n}",) for n in range(20)])
    conn.execute("INSERT INTO k VALUES ('x', 1)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_reading_keeps_the_fingerprint_and_any_commit_changes_it(
    tmp_path: Path, journal_mode: str
) -> None:
    db = tmp_path / "app.db"
    _make(db, journal_mode)
    first = database_fingerprint(db)
    # An application that opens, reads and closes (in another process) changes nothing.
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; sqlite3.connect({str(db)!r}).execute('SELECT * FROM t').fetchall()",
        ],
        check=True,
    )
    assert database_fingerprint(db) == first
    # An UPDATE that keeps every row count is still a change.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE t SET v = 'changed' WHERE id = 3")
    conn.commit()
    conn.close()
    assert database_fingerprint(db) != first


def _fingerprint_in_a_process(db: Path) -> str:
    # A lock timeout of 600 s: were the checkpoint to wait for the reader, the 60 s timeout of
    # the process would end the test as a failure.
    code = (
        "import sys; from pathlib import Path; "
        "from dbheal_lsp.databases.sqlite.fingerprint import database_fingerprint; "
        "print(database_fingerprint(Path(sys.argv[1]), timeout=600))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_reader_the_app_keeps_open_does_not_stall_it(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    _make(db, "wal")
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    writer = sqlite3.connect(db)
    writer.execute("INSERT INTO t (v) VALUES ('late')")
    writer.commit()
    # The checkpoint cannot finish while the reader holds its snapshot: the -wal is hashed too.
    held = _fingerprint_in_a_process(db)
    writer.execute("INSERT INTO t (v) VALUES ('later')")
    writer.commit()
    assert _fingerprint_in_a_process(db) != held
    reader.rollback()
    reader.close()
    writer.close()


def test_rows_lost_counts_rows_written_changed_and_tables_created(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    _make(db, "delete")
    backup = tmp_path / "backup.db"
    shutil.copyfile(db, backup)
    conn = sqlite3.connect(db)
    conn.executescript(
        "INSERT INTO t (v) VALUES ('new1'), ('new2');"
        "UPDATE t SET v = 'edited' WHERE id = 1;"
        "DELETE FROM t WHERE id = 2;"  # a restore brings it back: not a loss
        "INSERT INTO k VALUES ('y', 2);"
        "CREATE TABLE audit (what TEXT); INSERT INTO audit VALUES ('a');"
    )
    conn.close()
    losses = rows_lost(backup, db)
    text = describe_loss(losses)
    assert text == (
        "restoring would drop 2 rows in t and 1 in k written since the fix; and overwrite 1 row "
        "in t written or changed since the fix; and delete table audit (1 row), which the "
        "backup does not have"
    )
    assert describe_loss(rows_lost(backup, backup)).startswith("restoring would drop no row")

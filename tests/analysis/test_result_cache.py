"""The result cache (analysis/result_cache.py): an unchanged tree is answered from it, and
any change to a file, the database or the migrations is seen."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.files import project_cache_dir
from dbheal_lsp.model import IssueType
from tests.analysis.test_project import HEADER, essentials, make_db, project, where, write


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "app.db")


def write_tree(root: Path, files: int) -> list[str]:
    """Write `files` modules, each with one misspelt column; return their relative paths."""
    names = []
    for n in range(files):
        rel = f"pkg/mod_{n:03d}.py"
        write(
            root,
            rel,
            HEADER
            + f"\n\ndef order_{n}(order_id: int) -> object:\n"
            + "    return conn.execute(\n"
            + "        'SELECT id, staus FROM orders WHERE id = ?', (order_id,)\n"
            + "    ).fetchone()\n"
            + f"\n\ndef users_{n}(name: str) -> list[object]:\n"
            + "    return conn.execute(\n"
            + "        'SELECT id, email FROM users WHERE name = ?', (name,)\n"
            + "    ).fetchall()\n",
        )
        names.append(rel)
    return names


def test_cache_gives_the_same_result_for_an_unchangedwrite_tree(tmp_path: Path, db: Path) -> None:
    write_tree(tmp_path, 5)

    first = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=True)
    second = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=True)

    # In the user's cache directory (DBHEAL_CACHE_DIR, set by conftest), not in the project.
    assert (project_cache_dir(tmp_path) / "check.json").is_file()
    assert not (tmp_path / ".dbheal").exists()
    assert first.cached_files == 0
    assert len(first.issues) == 5
    assert second.cached_files == second.files_checked == 5
    assert essentials(second) == essentials(first)
    assert [i.statement_span for i in second.issues] == [i.statement_span for i in first.issues]


def test_cache_rechecks_only_the_edited_file(tmp_path: Path, db: Path) -> None:
    names = write_tree(tmp_path, 5)
    checker = project(tmp_path, database=str(db))
    checker.check_paths([tmp_path], use_cache=True)

    edited = tmp_path / names[2]
    edited.write_text(edited.read_text().replace("staus", "status"), encoding="utf-8")
    result = checker.check_paths([tmp_path], use_cache=True)

    assert result.cached_files == 4
    assert result.files_checked == 5
    assert sorted({i.path for i in result.issues}) == sorted(set(names) - {names[2]})


def test_cache_is_invalidated_by_a_schema_change(tmp_path: Path, db: Path) -> None:
    write_tree(tmp_path, 3)
    checker = project(tmp_path, database=str(db))
    before = checker.check_paths([tmp_path], use_cache=True)
    assert {i.column_name for i in before.issues} == {"staus"}

    other = sqlite3.connect(db)
    other.execute("ALTER TABLE orders ADD COLUMN staus TEXT")
    other.commit()
    other.close()

    after = checker.check_paths([tmp_path], use_cache=True)
    assert after.issues == ()
    assert after.cached_files == 0
    fresh = project(tmp_path, database=str(db)).check_paths([tmp_path], use_cache=True)
    assert fresh.issues == ()
    assert fresh.cached_files == 3


def _rewrite_in_place(db: Path, script: str) -> None:
    """Give the file at `db` the content of a database built by `script`: same device and
    inode (as when a file system reuses a deleted file's inode), maybe the same schema_version."""
    fresh = db.with_name("fresh.sqlite")
    make_db(fresh, script)
    db.write_bytes(fresh.read_bytes())
    fresh.unlink()


def test_a_database_rebuilt_in_place_is_read_again_by_the_same_project(tmp_path: Path) -> None:
    """The editor's long-lived Project: the live schema is not taken from its cache because
    the device, inode and schema_version are the same."""
    write(tmp_path, "app.py", HEADER + "conn.execute('SELECT b FROM t WHERE b = ?', (1,))\n")
    db = make_db(tmp_path / "app.db", "CREATE TABLE t (a); ALTER TABLE t RENAME COLUMN a TO b;")
    checker = project(tmp_path, database=str(db))
    assert where(checker.check_paths([tmp_path], use_cache=False).issues) == [
        ("app.py", 4, IssueType.MISSING_INDEX)
    ]

    _rewrite_in_place(db, "CREATE TABLE t (a); CREATE INDEX t_a ON t (a);")
    after = checker.check_paths([tmp_path], use_cache=True)

    assert {(i.type, i.column_name) for i in after.issues} == {(IssueType.MISSING_COLUMN, "b")}


def test_the_cache_key_is_the_migrations_content_not_their_size_and_time(tmp_path: Path) -> None:
    write(tmp_path, "app.py", HEADER + "conn.execute('SELECT name FROM users WHERE id = 1')\n")
    migrations = tmp_path / "migrations"
    migration = write(
        tmp_path, "migrations/001.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name);\n"
    )
    stamp = migration.stat().st_mtime_ns
    checker = project(tmp_path, migrations=str(migrations))
    assert checker.check_paths([tmp_path], use_cache=True).issues == ()

    # Same size, same time, one column renamed: what a checkout or a restore can do.
    migration.write_text("CREATE TABLE users (id INTEGER PRIMARY KEY, nome);\n")
    os.utime(migration, ns=(stamp, stamp))
    after = project(tmp_path, migrations=str(migrations)).check_paths([tmp_path], use_cache=True)

    assert after.cached_files == 0
    assert [(i.type, i.column_name) for i in after.issues] == [(IssueType.MISSING_COLUMN, "name")]

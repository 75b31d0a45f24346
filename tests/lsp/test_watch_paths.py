"""watch_paths.py: which folders the file watcher watches, and which events it reports, on real
folders under `tmp_path` (no observer: the paths' meaning alone)."""

from __future__ import annotations

import os
from pathlib import Path

from dbheal_lsp.lsp.watch_paths import (
    SKIP_DIRS,
    FolderContents,
    WatchedPaths,
    folder_identity,
)


def _paths(
    root: Path, migrations: str | None = "db/migrations", database: str | None = "app.db"
) -> WatchedPaths:
    return WatchedPaths.of(
        root,
        root / migrations if migrations else None,
        root / database if database else None,
        SKIP_DIRS,
    )


def test_each_file_is_the_database_a_migration_source_code_or_nothing(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    root = str(tmp_path)
    assert paths.file_kind(f"{root}/app.db") == "database"
    assert paths.file_kind(f"{root}/app.db-wal") == "database"
    assert paths.file_kind(f"{root}/app.db-journal") == "database"
    assert paths.file_kind(f"{root}/app.db-shm") is None  # readers write it too
    assert paths.file_kind(f"{root}/db/migrations/001_users.SQL") == "migration"
    assert paths.file_kind(f"{root}/db/migrations/2024_add/up.sql") == "migration"
    assert paths.file_kind(f"{root}/db/migrations/README.md") is None
    assert paths.file_kind(f"{root}/app/models.py") == "source"
    assert paths.file_kind(f"{root}/main.py") == "source"
    assert paths.file_kind(f"{root}/routes/auth.js") == "source"
    assert paths.file_kind(f"{root}/src/app.tsx") == "source"
    assert paths.file_kind(f"{root}/node_modules/pg/lib/client.js") is None
    assert paths.file_kind(f"{root}/app/notes.txt") is None


def test_source_files_in_skipped_folders_or_outside_the_root_are_not_reported(
    tmp_path: Path,
) -> None:
    paths = _paths(tmp_path)
    root = str(tmp_path)
    for skipped in (".venv/lib/site.py", "app/__pycache__/x.py", "node_modules/a/b.py"):
        assert paths.file_kind(f"{root}/{skipped}") is None, skipped
    assert paths.file_kind(f"{root}-other/app.py") is None  # a sibling sharing the prefix
    assert not paths.in_workspace(root)


def test_folder_events_that_change_what_is_watched(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    root = str(tmp_path)
    assert paths.is_structural(f"{root}/newpkg")  # a top-level folder
    assert paths.is_structural(f"{root}/db")  # holds the migrations folder
    assert paths.is_structural(f"{root}/db/migrations")
    assert not paths.is_structural(f"{root}/app/sub")


def test_the_folders_watched_are_the_top_level_ones_but_skipped_and_the_migrations(
    tmp_path: Path,
) -> None:
    for folder in ("app", ".venv", "node_modules", "db/migrations"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "README.md").write_text("")
    root = str(tmp_path)
    # db/ covers the migrations folder, and the root (not recursive) the database beside it.
    assert _paths(tmp_path).desired() == {root: False, f"{root}/app": True, f"{root}/db": True}
    # Migrations and a database outside the workspace get watches of their own.
    outside = tmp_path / "elsewhere"
    (outside / "migrations").mkdir(parents=True)
    paths = WatchedPaths.of(
        tmp_path / "app", outside / "migrations", outside / "data" / "app.db", SKIP_DIRS
    )
    assert paths.desired() == {f"{root}/app": False, f"{outside}/migrations": True}
    (outside / "data").mkdir()
    assert paths.desired()[f"{outside}/data"] is False


def test_a_folder_that_appears_reports_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("")
    (tmp_path / "pkg" / "__pycache__" / "c.py").write_text("")
    paths = _paths(tmp_path)
    found = paths.contents(str(tmp_path / "pkg"), recursive=True)
    assert sorted(found.source_files) == [tmp_path / "pkg" / "a.py", tmp_path / "pkg/sub/b.py"]
    assert not found.migrations and not found.database
    assert paths.contents(str(tmp_path / "pkg"), recursive=False).source_files == (
        tmp_path / "pkg" / "a.py",
    )
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    db = paths.contents(str(tmp_path / "db"), recursive=True)
    assert db == FolderContents((), migrations=True, database=False) and db
    assert not FolderContents()


def test_a_replaced_folder_has_another_identity(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    before = folder_identity(str(folder))
    assert before is not None
    os.rename(folder, tmp_path / "old")
    folder.mkdir()
    assert folder_identity(str(folder)) not in (None, before)
    assert folder_identity(str(tmp_path / "gone")) is None

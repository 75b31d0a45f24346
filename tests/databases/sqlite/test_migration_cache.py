"""Tests of the migrations' cache: replayed again only when a migration file changed."""

from __future__ import annotations

import os
from pathlib import Path

from dbheal_lsp.databases.sqlite.migration_cache import MigrationCache
from dbheal_lsp.databases.sqlite.replay import replay_migrations
from tests.databases.sqlite.test_replay import write


def test_cache_returns_previous_result_until_a_file_changes(tmp_path: Path) -> None:
    first_file = write(tmp_path, "001.sql", "CREATE TABLE a (x);\n")
    cache = MigrationCache()
    first = cache.get(tmp_path)
    assert cache.get(tmp_path) is first

    # Same size, new content: the mtime tells.
    first_file.write_text("CREATE TABLE b (x);\n")
    stat = first_file.stat()
    os.utime(first_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = cache.get(tmp_path)
    assert second is not first
    assert set(second.schema.tables) == {"b"}
    assert cache.get(tmp_path) is second

    write(tmp_path, "002.sql", "CREATE TABLE c (y);\n")
    third = cache.get(tmp_path)
    assert set(third.schema.tables) == {"b", "c"}

    (tmp_path / "002.sql").unlink()
    fourth = cache.get(tmp_path)
    assert set(fourth.schema.tables) == {"b"}

    # Files that are not migrations do not invalidate anything.
    (tmp_path / "README.md").write_text("hello")
    assert cache.get(tmp_path) is fourth

    cache.clear()
    assert cache.get(tmp_path) is not fourth


def test_cache_sees_an_edit_that_keeps_size_and_time(tmp_path: Path) -> None:
    path = write(tmp_path, "001.sql", "CREATE TABLE a (x);\n")
    cache = MigrationCache()
    assert set(cache.get(tmp_path).schema.tables) == {"a"}
    stat = path.stat()
    path.write_text("CREATE TABLE b (x);\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time, as git may leave it
    assert set(cache.get(tmp_path).schema.tables) == {"b"}


def test_a_migration_that_links_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    outside = write(tmp_path, "secret.sql", "CREATE TABLE secret (token TEXT);\n")
    folder = project / "migrations"
    write(folder, "001.sql", "CREATE TABLE users (id INTEGER);\n")
    (folder / "002.sql").symlink_to(outside)
    result = MigrationCache(project).get(folder)
    assert set(result.schema.tables) == {"users"}
    assert [
        (Path(e.path).name, "links out of the project" in e.message) for e in result.errors
    ] == [("002.sql", True)]
    # Without a root (the user's own folder, given outside any project) the link is followed.
    assert "secret" in replay_migrations(folder).schema.tables


def test_cache_keeps_folders_apart(tmp_path: Path) -> None:
    write(tmp_path / "one", "1.sql", "CREATE TABLE one (x);\n")
    write(tmp_path / "two", "1.sql", "CREATE TABLE two (x);\n")
    cache = MigrationCache()
    one = cache.get(tmp_path / "one")
    two = cache.get(tmp_path / "two")
    assert set(one.schema.tables) == {"one"} and set(two.schema.tables) == {"two"}
    assert cache.get(tmp_path / "one") is one
    missing = cache.get(tmp_path / "three")
    assert missing.errors and missing.schema.is_empty

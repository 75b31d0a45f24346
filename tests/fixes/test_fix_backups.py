"""A fix's backup folder: the database through its back end, the files beside it, private."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from dbheal_lsp.backups import BackupError, database_backup_path, fix_backup_dir
from dbheal_lsp.files import UnsafeStateDir
from dbheal_lsp.fixes.fix_backups import backup_fix
from tests.databases.sqlite.test_backup import checksum, make_db

# --- a fix's folder ---------------------------------------------------------------------------


def test_backup_fix_layout(tmp_path: Path) -> None:
    make_db(tmp_path / "app.sqlite")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("print('hi')\n")
    result = backup_fix(
        tmp_path, "20261124T001512-3f9a", database="app.sqlite", files=["app/views.py"]
    )
    assert result.backup_dir == ".dbheal/backups/20261124T001512-3f9a"
    assert result.database == ".dbheal/backups/20261124T001512-3f9a/database/app.sqlite"
    assert result.files == (".dbheal/backups/20261124T001512-3f9a/files/app/views.py",)
    assert fix_backup_dir(tmp_path, "20261124T001512-3f9a") == tmp_path / result.backup_dir
    assert database_backup_path(tmp_path, result.backup_dir, "app.sqlite") == (
        tmp_path / result.database
    )
    assert checksum(tmp_path / result.database) == checksum(tmp_path / "app.sqlite")
    with pytest.raises(BackupError, match="not a fix id"):
        fix_backup_dir(tmp_path, "../x")


# --- .dbheal/ is dbheal's own -------------------------------------------------------------------


def test_backups_are_private_and_ignored_by_git(tmp_path: Path) -> None:
    make_db(tmp_path / "app.sqlite")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("print('hi')\n")

    result = backup_fix(
        tmp_path, "20261124T001512-3f9a", database="app.sqlite", files=["app/views.py"]
    )

    folder = tmp_path / result.backup_dir
    for path in (tmp_path / ".dbheal", tmp_path / ".dbheal" / "backups", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE((folder / "database").stat().st_mode) == 0o700
    assert (tmp_path / ".dbheal" / ".gitignore").read_text() == "*\n"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".dbheal" not in status


def test_a_backup_into_a_linked_backups_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    make_db(tmp_path / "project" / "app.sqlite")
    neighbour = tmp_path / "neighbour"
    neighbour.mkdir()
    (tmp_path / "project" / ".dbheal").mkdir()
    (tmp_path / "project" / ".dbheal" / "backups").symlink_to(neighbour)

    with pytest.raises(UnsafeStateDir, match=r"refuses to use a linked \.dbheal"):
        backup_fix(tmp_path / "project", "20261124T001512-3f9a", database="app.sqlite")
    assert list(neighbour.iterdir()) == []

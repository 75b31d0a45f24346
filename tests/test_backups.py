"""Where a fix's backups live, and the copies of source files: exact bytes, metadata, a manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dbheal_lsp.backups import MANIFEST_NAME, BackupError, backup_files, restore_files

# --- files ------------------------------------------------------------------------------------


def test_backup_and_restore_files_exact_bytes_and_metadata(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "app" / "sub").mkdir(parents=True)
    contents = {
        "app/models.py": "x = 'ünïcode'\r\nprint(x)\r\n".encode(),
        "app/sub/raw.bin": bytes(range(256)),
        "main.py": b"",
    }
    for rel, data in contents.items():
        (root / rel).write_bytes(data)
    os.chmod(root / "main.py", 0o755)
    os.utime(root / "app/models.py", (1_600_000_000, 1_600_000_000))
    dest = tmp_path / "backup"

    copies = backup_files(root, list(contents), dest)
    assert copies == [dest / rel for rel in contents]
    for rel, data in contents.items():
        assert (dest / rel).read_bytes() == data
    assert (dest / "app/models.py").stat().st_mtime == 1_600_000_000
    assert (dest / "main.py").stat().st_mode & 0o777 == 0o755

    for rel in contents:
        (root / rel).write_bytes(b"changed by a fix\n")
    os.chmod(root / "main.py", 0o644)
    restored = restore_files(root, dest, list(contents))
    assert restored == [root / rel for rel in contents]
    for rel, data in contents.items():
        assert (root / rel).read_bytes() == data
    assert (root / "main.py").stat().st_mode & 0o777 == 0o755
    # No temporary files left beside the sources.
    assert sorted(p.name for p in (root / "app").iterdir()) == ["models.py", "sub"]


def test_a_file_the_fix_created_is_deleted_on_restore(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    dest = tmp_path / "backup"
    assert backup_files(root, ["migrations/0004_add_nick.sql"], dest) == []
    manifest = json.loads((dest / MANIFEST_NAME).read_text())
    assert manifest["files"] == {"migrations/0004_add_nick.sql": {"present": False}}
    (root / "migrations").mkdir()
    (root / "migrations/0004_add_nick.sql").write_text("ALTER TABLE users ADD nick TEXT;")
    restore_files(root, dest, ["migrations/0004_add_nick.sql"])
    assert not (root / "migrations/0004_add_nick.sql").exists()


def test_a_second_backup_into_the_same_folder_keeps_the_first_copy(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "a.py").write_text("first")
    dest = tmp_path / "backup"
    backup_files(root, ["a.py"], dest)
    (root / "a.py").write_text("second")
    assert backup_files(root, ["a.py", "b.py"], dest) == [dest / "a.py"]
    (root / "a.py").write_text("third")
    restore_files(root, dest, ["a.py"])
    assert (root / "a.py").read_text() == "first"


def test_restore_checks_every_backup_before_touching_a_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("a.py", "b.py"):
        (root / name).write_text(f"original {name}")
    dest = tmp_path / "backup"
    backup_files(root, ["a.py", "b.py"], dest)
    for name in ("a.py", "b.py"):
        (root / name).write_text("fixed")
    (dest / "b.py").write_text("tampered")
    with pytest.raises(BackupError, match=r"b\.py: its backup .* was changed"):
        restore_files(root, dest, ["a.py", "b.py"])
    assert (root / "a.py").read_text() == "fixed"
    (dest / "b.py").unlink()
    with pytest.raises(BackupError, match=r"b\.py: it has no backup"):
        restore_files(root, dest, ["a.py", "b.py"])
    assert (root / "a.py").read_text() == "fixed"


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.py", "a/../../x.py", MANIFEST_NAME])
def test_paths_outside_the_root_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BackupError):
        backup_files(tmp_path, [bad], tmp_path / "backup")
    with pytest.raises(BackupError):
        restore_files(tmp_path, tmp_path / "backup", [bad])

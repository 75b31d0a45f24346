"""Pruning old backups (`fixes/prune.py`), never one a fix can still be rolled back with."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dbheal_lsp.fixes.prune import prune
from dbheal_lsp.fixes.rollback import rollback
from dbheal_lsp.fixes.state import StateError, StateStore
from dbheal_lsp.records import FixRecord
from tests.fixes.recorded_fixes import apply_code_fix, apply_schema_fix

# --- prune -----------------------------------------------------------------------------------


def _age(root: Path, record: FixRecord, days: float) -> None:
    assert record.backup_dir is not None
    old = time.time() - days * 86400
    os.utime(root / record.backup_dir, (old, old))


def test_prune_never_deletes_a_backup_that_can_still_be_rolled_back(project: Path) -> None:
    now = datetime.now(timezone.utc)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    with StateStore(project) as store:
        old_applied = apply_schema_fix(store, project, "CREATE TABLE a (x);", created_at=ago(90))
        old_failed = apply_schema_fix(
            store, project, "SELECT 1;", created_at=ago(80), outcome="failed"
        )
        rolled = apply_schema_fix(store, project, "CREATE TABLE b (x);", created_at=ago(60))
        undo = rollback(store, project, rolled.id)
        recent_failed = apply_schema_fix(
            store, project, "SELECT 2;", created_at=ago(1), outcome="refused"
        )
        old_code = apply_code_fix(
            store, project, {"app/views.py": b"v\n"}, created_at=ago(70), outcome="rolled_back"
        )
        # A folder of a fix that was given its id and died before it was recorded: dbheal's.
        crashed = project / ".dbheal" / "backups" / store.new_fix_id()
        # Folders the history never handed out (a repository's, a user's): never deleted.
        orphan_old = project / ".dbheal" / "backups" / "20200101T000000-dead"
        orphan_new = project / ".dbheal" / "backups" / "20990101T000000-beef"
        for orphan in (crashed, orphan_old, orphan_new):
            (orphan / "database").mkdir(parents=True)
        old = time.time() - 40 * 86400
        os.utime(orphan_old, (old, old))
        os.utime(crashed, (old, old))

        deleted = prune(store, project, max_age_days=30, keep_per_database=20)

        assert sorted(deleted) == sorted(
            f".dbheal/backups/{fix_id}"
            for fix_id in (old_failed.id, rolled.id, old_code.id, crashed.name)
        )
        for kept in (old_applied, recent_failed, undo):
            assert kept.backup_dir is not None and (project / kept.backup_dir).is_dir()
        assert orphan_new.is_dir()
        assert orphan_old.is_dir()
        # The old applied fix can still be rolled back after the prune.
        assert rollback(store, project, old_applied.id).rollback_of == old_applied.id


def test_prune_keeps_the_newest_per_database(project: Path) -> None:
    with StateStore(project) as store:
        applied = [apply_schema_fix(store, project, f"CREATE TABLE t{n} (x);") for n in range(3)]
        failed = [apply_schema_fix(store, project, "SELECT 1;", outcome="failed") for _ in range(4)]
        code = [
            apply_code_fix(store, project, {"app/views.py": b"x\n"}, outcome="refused")
            for _ in range(3)
        ]
        deleted = prune(store, project, max_age_days=365, keep_per_database=3)
        # app.sqlite has 7 backups: the newest 3 (all failed) stay, the older failed one goes,
        # and the 3 applied ones stay although they are beyond the count.
        assert deleted == sorted([f".dbheal/backups/{failed[0].id}"])
        deleted = prune(store, project, max_age_days=365, keep_per_database=1)
        assert sorted(deleted) == sorted(
            f".dbheal/backups/{r.id}" for r in (failed[1], failed[2], code[0], code[1])
        )
        for record in (*applied, failed[3], code[2]):
            assert record.backup_dir is not None and (project / record.backup_dir).is_dir()
        assert prune(store, project, max_age_days=365, keep_per_database=1) == []


def _neighbours(tmp_path: Path) -> Path:
    """The user's other projects beside this one, untouched for 90 days."""
    folder = tmp_path / "neighbours"
    for name in ("20200101T000000-dead", "thesis"):
        (folder / name).mkdir(parents=True)
        (folder / name / "work.txt").write_text("months of work\n")
        old = time.time() - 90 * 86400
        os.utime(folder / name, (old, old))
    return folder


def test_prune_refuses_a_linked_backups_folder_and_deletes_nothing(
    project: Path, tmp_path: Path
) -> None:
    neighbours = _neighbours(tmp_path)
    with StateStore(project) as store:
        (project / ".dbheal" / "backups").symlink_to(neighbours)  # as a clone would have it

        with pytest.raises(StateError, match=r"backups is a symbolic link .*linked \.dbheal"):
            prune(store, project, max_age_days=30, keep_per_database=20)

    assert sorted(p.name for p in neighbours.iterdir()) == ["20200101T000000-dead", "thesis"]
    assert (neighbours / "thesis" / "work.txt").read_text() == "months of work\n"


@pytest.mark.parametrize("link", [".dbheal", ".dbheal/backups"])
def test_history_prune_on_a_linked_dbheal_says_so_and_deletes_nothing(
    project: Path, tmp_path: Path, link: str
) -> None:
    neighbours = _neighbours(tmp_path)
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    (project / link).symlink_to(neighbours)

    done = subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "history", "--prune"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refuses to use a linked .dbheal" in lines[0], done.stderr
    assert sorted(p.name for p in neighbours.iterdir()) == ["20200101T000000-dead", "thesis"]
    assert (neighbours / "thesis" / "work.txt").is_file()

"""A fix's backup, taken before it runs: the database through its back end, the files beside it.

The layout (`<root>/.dbheal/backups/<fix id>/database/` and `files/`) is dbheal_lsp/backups.py's;
`rollback.rollback` reads it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dbheal_lsp.backups import (
    DATABASE_SUBDIR,
    DEFAULT_TIMEOUT,
    FILES_SUBDIR,
    FixBackup,
    backup_files,
    fix_backup_dir,
)
from dbheal_lsp.databases.schema_fixes import schema_fixes_for
from dbheal_lsp.files import ensure_dir, relative_path

__all__ = ["backup_fix"]


def backup_fix(
    root: Path,
    fix_id: str,
    *,
    database: str | Path | None = None,
    files: Sequence[str | Path] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> FixBackup:
    """Back up what fix `fix_id` is about to change, in the layout `rollback.rollback` reads:
    the database (relative to `root`, or absolute) into `<backup dir>/database/`, the files
    (relative to `root`) into `<backup dir>/files/`. Return the backup's paths for the record."""
    root = Path(root)
    folder = ensure_dir(fix_backup_dir(root, fix_id))
    db_copy: str | None = None
    if database is not None:
        db_path = Path(database) if Path(database).is_absolute() else root / database
        db_copy = relative_path(
            schema_fixes_for(db_path).backup(db_path, folder / DATABASE_SUBDIR, timeout=timeout),
            root,
        )
    copies = backup_files(root, files, folder / FILES_SUBDIR) if files else []
    return FixBackup(
        backup_dir=relative_path(folder, root),
        database=db_copy,
        files=tuple(relative_path(c, root) for c in copies),
    )

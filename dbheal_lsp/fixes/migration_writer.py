"""Writing an applied schema fix as the next migration file of the project.

The file gets the next number of the folder (as wide as its numbers), a slug of the plan's
migration name, and is written atomically; its absence is backed up first, so that rolling the
fix back removes it again.
"""

from __future__ import annotations

import re
from pathlib import Path

from dbheal_lsp.analysis.migration_files import migration_files
from dbheal_lsp.files import atomic_write, relative_path
from dbheal_lsp.model import MigrationPlan
from dbheal_lsp.records import utc_now


def next_migration_path(folder: Path, name: str) -> Path:
    """Return the path of the next migration of `folder`: the next number, as wide as theirs."""
    numbers: list[tuple[int, int]] = []
    for path in migration_files(folder):
        m = re.match(r"(\d+)", path.name)
        if m:
            numbers.append((int(m.group(1)), len(m.group(1))))
    number = max((n for n, _ in numbers), default=0) + 1
    width = max((w for _, w in numbers), default=3)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "dbheal_fix"
    return folder / f"{number:0{width}d}_{slug}.sql"


def migration_text(plan: MigrationPlan, fix_id: str) -> str:
    """Return the migration file of an applied plan: what it does and who wrote it, its SQL."""
    lines = [
        f"-- {plan.title}",
        f"-- Written by dbheal (fix {fix_id}, {utc_now()}): {plan.description}",
    ]
    if plan.foreign_keys_off:
        lines.append(
            "-- Run with PRAGMA foreign_keys=OFF outside a transaction, as SQLite's table "
            "rebuild procedure requires."
        )
    lines.append("")
    lines.extend(s.sql.strip().rstrip(";") + ";" for s in plan.steps if s.kind == "sql")
    return "\n".join(lines) + "\n"


def write_migration(
    root: Path, folder: Path, plan: MigrationPlan, fix_id: str, backup_dir: Path
) -> Path:
    """Write `plan` (applied as fix `fix_id`) as the next migration file of `folder`; return it.

    The file is first recorded as absent in the fix's backup (`backup_dir`), so that a rollback
    removes it again.
    """
    from dbheal_lsp.backups import FILES_SUBDIR, backup_files
    from dbheal_lsp.fixes.file_undo import keep_written

    path = next_migration_path(folder, plan.migration_name or "")
    backup_files(root, [relative_path(path, root)], backup_dir / FILES_SUBDIR)
    # A new file (never written through a link planted at its name).
    atomic_write(path, migration_text(plan, fix_id).encode("utf-8"), mode=0o644)
    keep_written(root, backup_dir, relative_path(path, root))  # edited later: kept on rollback
    return path

"""Checking what a rollback put back: the fix's files byte for byte as their backup holds them,
and a database restored from its backup with the backup's schema and row counts.
"""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.backups import FILES_SUBDIR, WRITTEN_SUBDIR
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.schema_fixes import schema_fixes_for
from dbheal_lsp.fixes.file_undo import undone_edit
from dbheal_lsp.model import VerifyCheck, VerifyReport
from dbheal_lsp.records import FixRecord


def check_restored(
    root: Path,
    record: FixRecord,
    db_copy: Path | None,
    database: Path | None,
    *,
    undone: tuple[str, ...] = (),
) -> VerifyReport:
    """Check that rolling `record` back put its files back byte for byte (as its backup holds
    them, or absent; a file in `undone`, edited since the fix, no longer differs from its
    backup where the fix edited it), and, when the database was restored from `db_copy`, that
    the live `database` has the copy's schema and row counts."""
    assert record.backup_dir is not None
    checks: list[VerifyCheck] = []
    if record.files:
        backup = root / record.backup_dir / FILES_SUBDIR
        differing = []
        for rel in record.files:
            saved, live = backup / rel, root / rel
            if rel in undone:
                if not _edit_undone(saved, root / record.backup_dir / WRITTEN_SUBDIR / rel, live):
                    differing.append(rel)
                continue
            if saved.is_file():
                same = live.is_file() and live.read_bytes() == saved.read_bytes()
            else:  # absent before the fix
                same = not live.exists()
            if not same:
                differing.append(rel)
        checks.append(
            VerifyCheck(
                "files restored",
                not differing,
                f"differ from the backup: {', '.join(differing)}"
                if differing
                else f"{len(record.files)} file(s) as before the fix"
                + (f" ({len(undone)} with the changes made since kept)" if undone else ""),
            )
        )
    if database is not None and db_copy is not None:
        try:
            expected = database_summary(db_copy)
            actual = database_summary(database)
            ok = expected == actual
            detail = (
                f"schema and row counts of {len(expected)} objects match the backup"
                if ok
                else "schema or row counts differ from the backup"
            )
        except DatabaseError as exc:
            ok, detail = False, f"cannot read the database: {exc}"
        checks.append(VerifyCheck("database restored", ok, detail))
    return VerifyReport(tuple(checks))


def _edit_undone(before: Path, written: Path, live: Path) -> bool:
    """Whether `live` holds none of the fix's edit: undoing it once more changes nothing."""
    data = live.read_bytes() if live.is_file() else b""
    again = undone_edit(before.read_bytes(), written.read_bytes(), data)
    return data != written.read_bytes() and again.data in (None, data)


def database_summary(path: Path) -> dict[str, tuple[str, int]]:
    """Return the schema text and row count (-1: not a table) of each object of the database
    (its back end's `summary`)."""
    return schema_fixes_for(path).summary(path)

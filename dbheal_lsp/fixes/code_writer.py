"""Writing a code fix into its file: only onto the text it was planned for, still valid in its
language, backed up first, atomically, in the file's own encoding (both as the file's language,
languages/language.py, says)."""

from __future__ import annotations

import os
from pathlib import Path

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.files import atomic_write, read_regular_file, text_hash
from dbheal_lsp.languages.language import Language
from dbheal_lsp.model import CodeFix


def fixed_text(fix: CodeFix, source: str) -> str | None:
    """Return the text `fix` makes of `source`; None when `source` is not the text the fix was
    planned for (the file changed since)."""
    from dbheal_lsp.analysis.text_edits import apply_edits

    if text_hash(source) != fix.source_hash:
        return None
    return apply_edits(source, fix.edits)


def write_code_fix(
    root: Path, fix: CodeFix, source: str, after: str, backup_dir: Path, language: Language
) -> str:
    """Replace the text `source` of the file of `fix` (written in `language`) by `after`, the
    file backed up into `backup_dir` first and kept as written there too; return the diff. Raise ValueError, writing nothing, when `after` is not
    valid in the file's language: every fix is checked when it is made, so this is a bug."""
    from dbheal_lsp.analysis.text_edits import unified_diff
    from dbheal_lsp.backups import FILES_SUBDIR, backup_files
    from dbheal_lsp.fixes.file_undo import keep_written

    problem = language.syntax_problem(after)
    if problem is not None:
        raise ValueError(f"the fix of {fix.path} would break it ({problem.message}); not written")
    diff = unified_diff(fix.path, source, after)
    backup_files(root, [fix.path], backup_dir / FILES_SUBDIR)
    _write_atomically(root / fix.path, after, language)
    keep_written(root, backup_dir, fix.path)
    return diff


def _write_atomically(path: Path, text: str, language: Language) -> None:
    """Replace the code file `path` with `text` (files.atomic_write: never half-written, a
    link at `path` replaced rather than written through), keeping its permission bits and
    its encoding (a coding line's, a BOM: as its language reads it)."""
    try:
        mode: int | None = os.stat(path).st_mode
        data = read_regular_file(path, max_bytes=MAX_FILE_BYTES)
        encoding = language.encoding(data)
    except OSError:
        mode, encoding = None, "utf-8"
    atomic_write(path, text.encode(encoding), mode=mode)

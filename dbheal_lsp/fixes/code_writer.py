"""Writing a code fix into its file: only onto the text it was planned for, backed up first,
atomically, in the file's own encoding, and still Python afterwards."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.files import atomic_write, python_encoding, read_regular_file, text_hash
from dbheal_lsp.model import CodeFix


def fixed_text(fix: CodeFix, source: str) -> str | None:
    """Return the text `fix` makes of `source`; None when `source` is not the text the fix was
    planned for (the file changed since)."""
    from dbheal_lsp.analysis.text_edits import apply_edits

    if text_hash(source) != fix.source_hash:
        return None
    return apply_edits(source, fix.edits)


def write_code_fix(root: Path, fix: CodeFix, source: str, after: str, backup_dir: Path) -> str:
    """Replace the text `source` of the file of `fix` by `after`, the file backed up into
    `backup_dir` first; return the diff."""
    from dbheal_lsp.analysis.text_edits import unified_diff
    from dbheal_lsp.backups import FILES_SUBDIR, backup_files

    diff = unified_diff(fix.path, source, after)
    backup_files(root, [fix.path], backup_dir / FILES_SUBDIR)
    _write_atomically(root / fix.path, after)
    return diff


def _write_atomically(path: Path, text: str) -> None:
    """Replace the code file `path` with `text` (files.atomic_write: never half-written, a
    link at `path` replaced rather than written through), keeping its permission bits and
    its encoding (a coding line's, a BOM)."""
    try:
        mode: int | None = os.stat(path).st_mode
        encoding = python_encoding(read_regular_file(path, max_bytes=MAX_FILE_BYTES))
    except OSError:
        mode, encoding = None, "utf-8"
    atomic_write(path, text.encode(encoding), mode=mode)
    # The fixed text must still be Python: a failure here is a bug worth a loud error.
    ast.parse(text)

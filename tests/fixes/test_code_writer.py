"""Tests of writing a code fix into its file: only onto the text it was planned for, backed up,
in the file's own encoding and permissions, still Python; real files, no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.backups import FILES_SUBDIR, restore_files
from dbheal_lsp.files import text_hash
from dbheal_lsp.fixes.code_writer import fixed_text, write_code_fix
from dbheal_lsp.languages.python.language import PythonLanguage
from dbheal_lsp.model import CodeFix, Span, TextEdit

SOURCE = """# -*- coding: latin-1 -*-
import sqlite3

db = sqlite3.connect("app.db")


def tokens(user_id):
    # café
    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))
"""


def _fix(source: str) -> CodeFix:
    line = source.splitlines().index(
        '    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))'
    )
    column = source.splitlines()[line].index("int(user_id)") + 1
    edit = TextEdit(
        "app.py", Span(line + 1, column, line + 1, column + len("int(user_id)")), "user_id"
    )
    return CodeFix(
        "remove_cast:fp",
        "remove_cast",
        "Remove the int() cast",
        "app.py",
        "fp",
        (edit,),
        text_hash(source),
    )


def test_fixed_text_is_the_planned_edit_on_the_planned_text_only() -> None:
    fix = _fix(SOURCE)
    after = fixed_text(fix, SOURCE)
    assert after == SOURCE.replace("(int(user_id),)", "(user_id,)")
    # The file changed since the fix was planned: no text, the fix is stale.
    assert fixed_text(fix, SOURCE + "\n# edited meanwhile\n") is None


def test_the_fix_is_written_in_the_files_encoding_and_mode_and_backed_up(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_bytes(SOURCE.encode("latin-1"))
    app.chmod(0o750)
    fix = _fix(SOURCE)
    after = fixed_text(fix, SOURCE)
    assert after is not None
    backup = tmp_path / ".dbheal" / "backups" / "f1"
    diff = write_code_fix(tmp_path, fix, SOURCE, after, backup, PythonLanguage())
    assert diff.startswith("--- a/app.py\n+++ b/app.py\n")
    assert (
        '-    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (int(user_id),))'
        in diff
    )
    assert (
        '+    return db.execute("SELECT token FROM sessions WHERE user_id = ?", (user_id,))' in diff
    )
    assert app.read_bytes() == after.encode("latin-1")  # "é" is one byte, as before
    assert app.stat().st_mode & 0o777 == 0o750
    restore_files(tmp_path, backup / FILES_SUBDIR, ["app.py"])
    assert app.read_bytes() == SOURCE.encode("latin-1")


def test_a_fix_that_would_not_be_python_is_a_loud_error_and_writes_nothing(
    tmp_path: Path,
) -> None:
    source = "x = 1\n"
    (tmp_path / "app.py").write_text(source)
    fix = CodeFix("k:fp", "rename", "t", "app.py", "fp", (), text_hash(source))
    with pytest.raises(ValueError, match=r"would break it \(Python syntax error: .* \(line 1\)\)"):
        write_code_fix(tmp_path, fix, source, "x = (\n", tmp_path / "backup", PythonLanguage())
    # Checked before anything is written (a bug of a fix, not of the user): the file is as it
    # was, and no backup was needed.
    assert (tmp_path / "app.py").read_text() == source
    assert not (tmp_path / "backup").exists()

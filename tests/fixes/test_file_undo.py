"""Undoing a fix's edit in a file edited since (fixes/file_undo.py): the later edits stay, an
edit of the fix's own lines refuses the rollback; over real files and the `dbheal` command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.fixes.file_undo import undone_edit
from dbheal_lsp.fixes.state import StateStore
from tests.conftest import run_dbheal, write_app

BEFORE = b"import db\n\ndef load(uid):\n    return db.q(f'... {uid}')\n\ndef other():\n    pass\n"
WRITTEN = (
    b"import db\n\ndef load(uid):\n    return db.q('... ?', (uid,))\n\ndef other():\n    pass\n"
)

# (why, the file now, the file after undoing the fix's edit, or the line of a conflict)
CASES: list[tuple[str, bytes, bytes | int]] = [
    ("as the fix left it", WRITTEN, BEFORE),
    (
        "a line added at the end",
        WRITTEN + b"\ndef later():\n    pass\n",
        BEFORE + b"\ndef later():\n    pass\n",
    ),
    (
        "a line added at the top and another function changed",
        b"# header\n" + WRITTEN.replace(b"    pass", b"    return 1"),
        b"# header\n" + BEFORE.replace(b"    pass", b"    return 1"),
    ),
    ("the fix's line edited again", WRITTEN.replace(b"(uid,)", b"(uid, 1)"), 4),
    (
        "a decorator added to the fixed function",
        WRITTEN.replace(b"def load", b"@cache\ndef load"),
        BEFORE.replace(b"def load", b"@cache\ndef load"),
    ),
    (
        "a line written right against the fix's",
        WRITTEN.replace(b"(uid):\n", b"(uid):\n    log(uid)\n"),
        4,
    ),
    ("the fix's line deleted", WRITTEN.replace(b"    return db.q('... ?', (uid,))\n", b""), 4),
]


@pytest.mark.parametrize(("why", "current", "expected"), CASES, ids=[c[0] for c in CASES])
def test_only_the_fixs_edit_is_undone(why: str, current: bytes, expected: bytes | int) -> None:
    undone = undone_edit(BEFORE, WRITTEN, current)
    if isinstance(expected, int):
        assert undone.data is None and undone.conflict_line == expected, why
    else:
        assert undone.data == expected, why


def test_a_fix_that_deleted_lines_gets_them_back_between_the_same_neighbours() -> None:
    before = b"a\nb\nc\nd\n"
    written = b"a\nd\n"
    assert undone_edit(before, written, b"a\nd\ne\n").data == b"a\nb\nc\nd\ne\n"
    assert undone_edit(before, written, b"a\nx\nd\n").data is None  # written where they were


def _app(root: Path) -> Path:
    source = (
        "import sqlite3\n\n"
        "conn = sqlite3.connect('app.db')\n\n\n"
        "def find(name):\n"
        "    return conn.execute(f\"SELECT id FROM users WHERE name = '{name}'\").fetchall()\n"
    )
    write_app(root, source)
    with sqlite3.connect(root / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    return root


def _applied_fix(root: Path) -> str:
    done = run_dbheal(root, "fix", "--apply", "--yes")
    assert done.returncode in (0, 1), done.stderr
    assert "(name,)" in (root / "app.py").read_text(encoding="utf-8")
    with StateStore(root) as store:
        return store.fixes()[0].id


def test_rolling_back_a_code_fix_keeps_what_was_written_in_the_file_since(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    fix_id = _applied_fix(root)
    app = root / "app.py"
    edited = (
        "# owned by the search team\n"
        + app.read_text(encoding="utf-8")
        + ("\n\ndef count():\n    return conn.execute('SELECT count(*) FROM users').fetchone()\n")
    )
    app.write_text(edited, encoding="utf-8")
    done = run_dbheal(root, "rollback", fix_id, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "undo the fix's edit in app.py, keeping the changes made to it since" in done.stdout
    text = app.read_text(encoding="utf-8")
    # The injection is back (the fix is undone), and the team's two edits are still there.
    assert "WHERE name = '{name}'\")" in text and "(name,)" not in text
    assert text.startswith("# owned by the search team\n") and "def count():" in text


def test_a_rollback_whose_fix_lines_were_edited_since_is_refused(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    fix_id = _applied_fix(root)
    app = root / "app.py"
    edited = app.read_text(encoding="utf-8").replace("(name,)", "(name.strip(),)")
    app.write_text(edited, encoding="utf-8")
    done = run_dbheal(root, "rollback", fix_id, "--yes")
    assert done.returncode != 0
    assert "app.py was edited since the fix, where the fix changed it (line 7" in done.stderr
    assert "nothing was changed" in done.stderr
    assert app.read_text(encoding="utf-8") == edited


def test_a_path_out_of_the_project_or_a_link_out_of_it_is_refused(tmp_path: Path) -> None:
    # A history in .dbheal/ may be a stranger's: its paths are never followed out.
    from dbheal_lsp.fixes.file_undo import file_steps

    root = tmp_path / "project"
    (root / ".dbheal" / "backups" / "f1" / "files").mkdir(parents=True)
    outside = tmp_path / "outside.py"
    outside.write_text("secret = 1\n")
    with pytest.raises(ValueError, match="not a path inside the project root"):
        file_steps(root, ".dbheal/backups/f1", ["../outside.py"])
    (root / "app.py").symlink_to(outside)
    with pytest.raises(ValueError, match=r"^app\.py: .*(link|outside)"):
        file_steps(root, ".dbheal/backups/f1", ["app.py"])
    assert outside.read_text() == "secret = 1\n"

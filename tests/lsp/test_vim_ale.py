"""dbheal in a real Vim with ALE: findings on save, hover, completion and the cast quickfix.

Vim runs with tests/lsp/vim/vimrc, the set-up docs/editors.md gives, word for word, and
tests/lsp/vim/drive.vim drives it through ALE's own commands and key maps: it saves
app/routes/auth.py of a copy of the demo, waits for dbheal's findings in ALE's list, presses K on
a table name, answers :ALECodeAction's menu with "Remove the int() cast" on each cast (one of them
after non-ASCII text on its line, where Vim's byte columns and the protocol's UTF-16 ones differ),
saves again, then types two SQL strings and completes them with CTRL-X CTRL-O. Nothing is
mocked: ALE starts `python3 -m dbheal_lsp`, with python3 this virtualenv's (through a two-line
wrapper that keeps the server's stderr for the failure report: ALE throws it away).

ALE comes three ways, and the set-up must load it each way: Debian's vim-ale package (an optional
package that the vimrc adds), a copy in ~/.vim/pack/*/start (how a git clone or minpac installs
it) and a plugin manager that puts it on the runtimepath before the vimrc's lines run (what
vim-plug's plug#end() does). Vim is not started in the project: the project comes from the file.

Without vim (with +job and +timers) or Debian's vim-ale the test is skipped, except under CI (the
CI environment variable set), where `.ci/run` installs both and a missing one is a failure.
"""

from __future__ import annotations

import ast
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_shop
from tests.lsp.editors import documented_block, editor_env, missing_editor, run_editor

VIM_DIR = Path(__file__).resolve().parent / "vim"
VIMRC = VIM_DIR / "vimrc"
DRIVE_VIM = VIM_DIR / "drive.vim"
# Where Debian's vim-ale puts ALE: an optional package, loaded by `:packadd ale`.
DEBIAN_ALE = Path("/usr/share/vim/vimfiles/pack/dist-bundle/opt/ale")
FILE = "app/routes/auth.py"
CAST_LINE = 87  # 1-based, as ALE and EXPECTED.md count
# Appended to the file: a cast after non-ASCII text on its line, where byte columns (Vim's,
# ALE's) and UTF-16 ones (the protocol's default) differ.
ACCENTED = (
    "\n\ndef session_ids(user_id: str) -> list[sqlite3.Row]:\n"
    '    return get_db().execute(f"SELECT id FROM sessions /* appareils connectés */'
    ' WHERE user_id = {int(user_id)}").fetchall()\n'
)
ACCENTED_LINE = 112  # after the file's 108 lines, two blank ones and the def
ACCENTED_FIXED = (
    '    return get_db().execute("SELECT id FROM sessions /* appareils connectés */'
    ' WHERE user_id = ?", (user_id,)).fetchall()'
)
WAIT_MS = 60_000  # each wait inside Vim
VIM_TIMEOUT_S = 240  # the whole Vim session


def vim_or_skip() -> str:
    """The vim executable, with ALE installed; skip without them, unless under CI."""
    vim = shutil.which("vim")
    problem = None
    if vim is None:
        problem = "vim is not installed (apt-get install vim)"
    elif not (DEBIAN_ALE / "autoload" / "ale.vim").is_file():
        problem = f"ALE is not installed in {DEBIAN_ALE} (apt-get install vim-ale)"
    else:
        version = subprocess.run(
            [vim, "--version"], capture_output=True, text=True, timeout=60
        ).stdout
        missing = [f for f in ("+job", "+timers", "+channel") if f not in version.split()]
        if missing:
            problem = f"{vim} lacks {', '.join(missing)}, which ALE needs (apt-get install vim)"
    if problem is not None:
        missing_editor(problem, "vim and vim-ale")
    assert vim is not None
    return vim


def install_ale(how: str, home: Path) -> tuple[Path, Path]:
    """Install ALE in `home` as `how` says; return (the vimrc to start Vim with, ALE's path)."""
    if how == "debian-package":
        return VIMRC, DEBIAN_ALE
    source = DEBIAN_ALE.resolve()
    if how == "pack-start":
        ale = home / ".vim" / "pack" / "plugins" / "start" / "ale"
        ale.parent.mkdir(parents=True)
        ale.symlink_to(source, target_is_directory=True)
        return VIMRC, ale
    # A plugin manager: its own lines come first in the user's vimrc and put ALE on the
    # runtimepath (vim-plug's plug#end() does just that); the set-up's lines follow.
    ale = home / ".vim" / "plugged" / "ale"
    ale.parent.mkdir(parents=True)
    ale.symlink_to(source, target_is_directory=True)
    vimrc = home / "vimrc-with-plugin-manager"
    vimrc.write_text(
        f"set runtimepath^={ale}\nsource {VIMRC}\n",
        encoding="utf-8",
    )
    return vimrc, ale


def python3_wrapper(bin_dir: Path, log: Path) -> None:
    """`python3` for ALE to find first on PATH: this virtualenv's, its stderr kept in `log`."""
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"
    wrapper.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@" 2>>{shlex.quote(str(log))}\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)


def run_vim(vim: str, vimrc: Path, project: Path, tmp: Path) -> dict[str, Any]:
    """Run Vim on the project's file with `vimrc` and drive.vim; return what drive.vim saw."""
    out = tmp / "vim-out"
    out.mkdir()
    home = tmp / "home"
    server_log = tmp / "server-stderr.log"
    python3_wrapper(tmp / "bin", server_log)
    # ~/.vim, ~/.vimrc: the test's own, never the user's.
    env = editor_env(
        tmp / "xdg",
        HOME=str(home),
        TERM="dumb",
        DBHEAL_VIM_OUT=str(out),
        DBHEAL_VIM_TIMEOUT_MS=str(WAIT_MS),
    )
    env["PATH"] = os.pathsep.join([str(tmp / "bin"), env["PATH"]])  # the wrapper first
    env.pop("VIMINIT", None)
    env.pop("EXINIT", None)
    # --not-a-term: the output is not a terminal, and Vim need not wait for one. -i NONE: no
    # viminfo. The file by its absolute path, from outside the project.
    cmd = [vim, "--not-a-term", "-N", "-u", str(vimrc), "-i", "NONE", str(project / FILE)]
    cmd += ["-S", str(DRIVE_VIM)]
    return run_editor(
        "Vim",
        cmd,
        cwd=tmp,
        env=env,
        out=out,
        timeout=VIM_TIMEOUT_S,
        project=project,
        logs=lambda seen: f"Vim's screen (tail):\n{seen}\n{server_stderr(server_log)}",
    )


def server_stderr(log: Path) -> str:
    """The tail of what the dbheal server wrote to stderr under Vim."""
    text = log.read_text(errors="replace")[-6000:] if log.is_file() else "(nothing)"
    return f"server stderr:\n{text}"


@pytest.mark.parametrize("install", ["debian-package", "pack-start", "plugin-manager"])
def test_vim_ale_findings_hover_completion_and_cast_quickfix(tmp_path: Path, install: str) -> None:
    vim = vim_or_skip()
    project = copy_shop(tmp_path)
    path = project / FILE
    path.write_text(path.read_text() + ACCENTED, encoding="utf-8")
    before = path.read_text().splitlines()
    accented = before[ACCENTED_LINE - 1]
    home = tmp_path / "home"
    home.mkdir()
    vimrc, ale = install_ale(install, home)

    result = run_vim(vim, vimrc, project, tmp_path)

    # The set-up loaded ALE from where it was installed, once, and dbheal alone runs for Python,
    # rooted at the project that holds the file (Vim was started outside it).
    assert result["ale"] == [str(ale / "autoload" / "ale.vim")], result["ale"]
    assert result["ale_3_3"] == 1
    assert result["filetype"] == "python"
    assert result["linters"] == ["dbheal"]
    assert result["root"] == str(project)
    assert result["omnifunc"] == "ale#completion#OmniFunc"

    # EXPECTED.md rows 1-3 in ALE's list: 1-based columns, and ALE's end_col is the last
    # column of the token (EXPECTED.md's end is just past it). ASCII lines: bytes = characters.
    # On the accented line, the cast's byte columns: where Vim highlights and puts the cursor.
    cast = accented.encode("utf-8").index(b"int(user_id)") + 1
    found = {(d["code"], d["lnum"], d["col"], d["end_col"]) for d in result["diagnostics"]}
    assert found == {
        ("SQL_INJECTION", 53, 81, 85),
        ("SELECT_STAR", CAST_LINE, 32, 32),
        ("TYPE_MISMATCH", CAST_LINE, 65, 76),
        ("TYPE_MISMATCH", ACCENTED_LINE, cast, cast + len("int(user_id)") - 1),
    }, result["diagnostics"]
    # A critical issue is an error in ALE's signs; medium and low ones are warnings.
    assert {d["code"]: d["type"] for d in result["diagnostics"]} == {
        "SQL_INJECTION": "E",
        "SELECT_STAR": "W",
        "TYPE_MISMATCH": "W",
    }

    # K on `sessions` shows the table in ALE's preview window, as plain text (ALE asks for it).
    hover = result["hover"]
    assert hover[0] == "table sessions — 5 columns", hover
    assert "- user_id TEXT NOT NULL" in hover, hover
    assert "Defined in migrations/002_sessions.sql:3" in hover, hover
    assert not any("**" in line or "`" in line for line in hover), hover

    # :ALECodeAction's menu, answered with the cast quickfix's number, changed the buffer, and
    # :w saved it: each cast is gone (the value is bound instead), no other line changed.
    fixes = {fix["lnum"]: fix for fix in result["fixes"]}
    assert sorted(fixes) == [CAST_LINE, ACCENTED_LINE], result["fixes"]
    for fix in result["fixes"]:
        assert fix["chosen"].startswith("Remove the int() cast"), fix["code_actions"]
    assert result["modified"] == 1
    after = path.read_text().splitlines()
    assert len(after) == len(before)
    changed = {CAST_LINE - 1, ACCENTED_LINE - 1}
    assert [line for i, line in enumerate(after) if i not in changed] == [
        line for i, line in enumerate(before) if i not in changed
    ]
    assert before[CAST_LINE - 1] == (
        '    return db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}").fetchall()'
    )
    assert (
        after[CAST_LINE - 1]
        == fixes[CAST_LINE]["after"]
        == (
            '    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,)).fetchall()'
        )
    )
    assert after[ACCENTED_LINE - 1] == fixes[ACCENTED_LINE]["after"] == ACCENTED_FIXED
    ast.parse(path.read_text())

    # Saving the fixed file checked it again: the TYPE_MISMATCHes are gone, the rest is there.
    assert result["cleared"] == 1, result["diagnostics_after"]
    assert {(d["code"], d["lnum"]) for d in result["diagnostics_after"]} == {
        ("SQL_INJECTION", 53),
        ("SELECT_STAR", CAST_LINE),
    }, result["diagnostics_after"]

    # CTRL-X CTRL-O after FROM offers the schema's tables, and in a WHERE the columns of the
    # table in scope; the first proposal is what Vim inserts.
    table = result["complete_table"]
    assert table["words"][:1] == ["users"], table
    assert "user_preferences" in table["words"], table  # defined by a migration not yet applied
    assert table["line"] == 'rows = db.execute("SELECT * FROM users")', table
    column = result["complete_column"]
    assert column["words"] == ["email"], column
    assert column["line"] == 'rows = db.execute("SELECT id FROM users WHERE email = ?", (email,))'


def test_editors_doc_gives_the_tested_vim_set_up() -> None:
    """docs/editors.md shows, as one Vim script block, exactly the vimrc this test runs."""
    assert documented_block("vim", VIMRC)

"""dbheal in a real Emacs 28, with eglot and with lsp-mode: diagnostics, hover, completion, quick fix.

Each client's set-up is the init.el that docs/editors.md gives, word for word
(tests/lsp/emacs/init-eglot.el, init-lsp-mode.el), placed in a private HOME's ~/.emacs.d. A
driver (tests/lsp/emacs/drive-*.el, with common.el) runs it in `emacs --batch` in a copy of the
demo: it does what an interactive start does (activates the installed packages, Debian's elpa-*
ones included, then loads init.el), opens app/routes/auth.py, lets the client start dbheal,
saves, waits for the flymake diagnostics, asks for the hover of the `sessions` table, lists what
completion-at-point offers after "WHERE ", runs the client's code-action command choosing
"Remove the int() cast", saves and waits for the diagnostics of the fixed file. Nothing is
mocked: the server is `python3 -m dbheal_lsp`, with this virtualenv's python3 first on PATH.

Without emacs, eglot or lsp-mode the test is skipped, except under CI (the CI environment
variable set), where `.ci/run` installs Debian's emacs-nox, elpa-eglot and elpa-lsp-mode.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_shop
from tests.lsp.editors import documented_block, editor_env, missing_editor, run_editor

EMACS_DIR = Path(__file__).resolve().parent / "emacs"
FILE = "app/routes/auth.py"
CLIENTS = ("eglot", "lsp-mode")
# examples/shop/EXPECTED.md rows 1-3, 0-based lines and character columns (ASCII lines).
INJECTION_LINE = 52
CAST_LINE = 86
WAIT_S = 60  # each wait inside Emacs
EMACS_TIMEOUT_S = 240  # the whole Emacs session


def init_file(client: str) -> Path:
    """The init.el that docs/editors.md gives for `client`."""
    return EMACS_DIR / f"init-{client}.el"


def emacs_or_skip(client: str) -> str:
    """The emacs executable, once `client`'s package is known to be installed; skip without
    them, unless under CI, which must have both."""
    emacs = shutil.which("emacs")
    missing = None
    if emacs is None:
        missing = "emacs is not installed (apt-get install emacs-nox)"
    else:
        # Where an interactive start would find the package: activated, as at start-up.
        probe = subprocess.run(
            [
                emacs,
                "--batch",
                "--eval",
                f'(progn (package-activate-all) (princ (locate-library "{client}")))',
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": os.devnull},
        )
        if probe.stdout.strip() in ("", "nil"):
            missing = f"Emacs has no {client} (apt-get install elpa-{client})"
    if missing is not None:
        missing_editor(missing, f"emacs-nox and elpa-{client}")
    assert emacs is not None
    return emacs


def run_emacs(emacs: str, client: str, project: Path, tmp_path: Path) -> dict[str, Any]:
    """Run the client's driver in a private HOME whose init.el is the documented one."""
    home = tmp_path / "home"
    (home / ".emacs.d").mkdir(parents=True)
    shutil.copyfile(init_file(client), home / ".emacs.d" / "init.el")
    out = tmp_path / "emacs-out"
    out.mkdir()
    env = editor_env(
        tmp_path / "xdg",
        HOME=str(home),
        DBHEAL_EMACS_OUT=str(out),
        DBHEAL_EMACS_TIMEOUT_S=str(WAIT_S),
    )
    cmd = [emacs, "--batch", "-l", str(EMACS_DIR / f"drive-{client}.el")]
    return run_editor(
        f"Emacs ({client})",
        cmd,
        cwd=project,
        env=env,
        out=out,
        timeout=EMACS_TIMEOUT_S,
        project=project,
        logs=lambda seen: (
            f"Emacs's output (error.txt has the client's and server's buffers):\n{seen}"
        ),
    )


def spans(result: dict[str, Any], key: str) -> dict[str, tuple[int, int, int, int]]:
    """The diagnostics under `key` by code, as (line, column, end line, end column)."""
    return {d["code"]: (d["line"], d["col"], d["end_line"], d["end_col"]) for d in result[key]}


@pytest.mark.parametrize("client", CLIENTS)
def test_emacs_diagnostics_hover_completion_and_cast_quickfix(client: str, tmp_path: Path) -> None:
    emacs = emacs_or_skip(client)
    project = copy_shop(tmp_path)
    path = project / FILE
    before = path.read_text().splitlines()

    result = run_emacs(emacs, client, project, tmp_path)

    assert result["major_mode"] == "python-mode", result
    assert result["package_version"], result  # activated as a package, as at an interactive start
    # The client picked its own root (no .git here: the file's folder), without asking; dbheal
    # found the project from the file all the same.
    assert (project / FILE).resolve().is_relative_to(Path(result["project_root"]).resolve()), result
    if client == "lsp-mode":  # lsp-mode keeps its session in the private ~/.emacs.d
        assert (tmp_path / "home" / ".emacs.d" / ".lsp-session-v1").is_file()

    # The three findings EXPECTED.md plants in the file, where flymake underlines them.
    found = spans(result, "diagnostics")
    assert found == {
        "SQL_INJECTION": (INJECTION_LINE, 80, INJECTION_LINE, 85),
        "SELECT_STAR": (CAST_LINE, 31, CAST_LINE, 32),
        "TYPE_MISMATCH": (CAST_LINE, 64, CAST_LINE, 76),
    }, result["diagnostics"]
    assert before[INJECTION_LINE][80:85] == "email"
    assert before[CAST_LINE][64:76] == "int(user_id)"
    kinds = {d["code"]: d["type"] for d in result["diagnostics"]}
    assert kinds["SQL_INJECTION"].endswith("error"), kinds  # eglot-error / :error
    assert kinds["TYPE_MISMATCH"].endswith("note"), kinds  # an Information: eglot-note / :note
    texts = {d["code"]: d["text"] for d in result["diagnostics"]}
    assert "int(user_id)" in texts["TYPE_MISMATCH"], texts

    # Hover on `sessions` in line 87: the table's columns with their types.
    assert result["hover_at"] == [CAST_LINE, 38], result["hover_at"]
    hover = result["hover"]
    assert hover and "sessions" in hover and "5 columns" in hover, hover
    assert "user_id" in hover and "TEXT NOT NULL" in hover, hover

    # Completion after "WHERE " in line 87: the columns of `sessions`, then the tables.
    assert result["completion_at"] == [CAST_LINE, 53], result["completion_at"]
    offered = result["completions"]
    assert {"user_id", "token", "expires_at", "sessions", "users"} <= set(offered), offered
    assert offered.index("user_id") < offered.index("users"), offered

    # The quickfix was chosen from the client's code-action menu, applied and saved: the cast is
    # gone, the value bound instead, and no other line changed.
    assert any(t.startswith("Remove the int() cast") for t in result["code_actions"]), result
    after = path.read_text().splitlines()
    assert len(after) == len(before)
    assert [line for i, line in enumerate(after) if i != CAST_LINE] == [
        line for i, line in enumerate(before) if i != CAST_LINE
    ]
    assert after[CAST_LINE] == (
        '    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,)).fetchall()'
    )
    ast.parse(path.read_text())

    # Saving the fixed file checked it again: the TYPE_MISMATCH is gone, the rest is still there.
    assert result["cleared"] is True, result["diagnostics_after"]
    assert spans(result, "diagnostics_after") == {
        "SQL_INJECTION": (INJECTION_LINE, 80, INJECTION_LINE, 85),
        "SELECT_STAR": (CAST_LINE, 30, CAST_LINE, 31),
    }, result["diagnostics_after"]


@pytest.mark.parametrize("client", CLIENTS)
def test_editors_doc_gives_the_tested_emacs_set_up(client: str) -> None:
    """docs/editors.md shows, as one Emacs Lisp block, exactly the init.el the test runs."""
    assert documented_block("elisp", init_file(client))

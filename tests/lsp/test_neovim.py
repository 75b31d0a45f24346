"""dbheal in a real Neovim: diagnostics on save, the quickfix that removes a redundant cast,
hover on K and completion with CTRL-X CTRL-O.

Neovim runs headless with tests/lsp/nvim/init.lua, the 0.7-compatible set-up that
docs/editors.md gives, word for word, and tests/lsp/nvim/drive.lua drives it: it opens
app/routes/auth.py of a copy of the demo, saves, waits for the diagnostics, asks for the code
actions at the TYPE_MISMATCH, applies the cast fix's WorkspaceEdit and saves again; then it
presses K on `sessions` and on `user_id` in the fixed line's SQL and reads the floating window,
and completes after `FROM ` and after `WHERE ` through the omnifunc init.lua sets, reading the
completion menu. One Neovim session serves all the tests of this file. Nothing is mocked: the
server is `python3 -m dbheal_lsp`, with this virtualenv's python3 first on PATH.

Without `nvim` the test is skipped, except under CI (the CI environment variable set), where
`.ci/run` installs Debian's neovim and a missing `nvim` is a failure.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_shop
from tests.lsp.editors import documented_block, editor_env, missing_editor, run_editor
from tests.lsp.test_documents import SESSIONS_TS

NVIM_DIR = Path(__file__).resolve().parent / "nvim"
INIT_LUA = NVIM_DIR / "init.lua"
DRIVE_LUA = NVIM_DIR / "drive.lua"
DIAGNOSTICS_LUA = NVIM_DIR / "drive_diagnostics.lua"
FILE = "app/routes/auth.py"
# examples/shop/EXPECTED.md row 3: line 87, columns 65-77 (1-based) -> LSP line 86, 64-76.
CAST_LINE = 86
CAST_COL = 64
CAST_END = 76
# What the quickfix leaves on that line; hover and completion are tried on its SQL.
FIXED_LINE = (
    '    return db.execute("SELECT * FROM sessions WHERE user_id = ?", (user_id,)).fetchall()'
)
INFORMATION = 3  # DiagnosticSeverity of a medium issue (docs/rules.md)
WAIT_MS = 60_000  # each wait inside Neovim
NVIM_TIMEOUT_S = 240  # the whole Neovim session


def nvim_or_skip() -> str:
    """The nvim executable; skip without one, unless under CI, which must have it."""
    nvim = shutil.which("nvim")
    if nvim is None:
        missing_editor("nvim is not installed (apt-get install neovim)", "neovim")
    return nvim


def lsp_log(xdg: Path) -> str:
    """The tail of Neovim's LSP log (the server's stderr lands there)."""
    for log in (xdg / "state" / "nvim" / "lsp.log", xdg / "cache" / "nvim" / "lsp.log"):
        if log.is_file():
            return log.read_text(errors="replace")[-6000:]
    return "(no lsp.log)"


def run_nvim(
    nvim: str,
    project: Path,
    out: Path,
    xdg: Path,
    file: str = FILE,
    drive: Path = DRIVE_LUA,
    **extra: str,
) -> dict[str, Any]:
    env = editor_env(xdg, DBHEAL_NVIM_OUT=str(out), DBHEAL_NVIM_TIMEOUT_MS=str(WAIT_MS), **extra)
    cmd = [nvim, "--headless", "--clean", "-u", str(INIT_LUA), file, "-S", str(drive)]
    return run_editor(
        "Neovim",
        cmd,
        cwd=project,
        env=env,
        out=out,
        timeout=NVIM_TIMEOUT_S,
        project=project,
        logs=lambda seen: f"Neovim's output:\n{seen}\nLSP log:\n{lsp_log(xdg)}",
    )


@dataclass(frozen=True)
class Session:
    """One Neovim session over a copy of the demo: what drive.lua saw, the file before and after."""

    result: dict[str, Any]
    before: list[str]
    after: str


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Run Neovim once (about 5 s here) for every test of this file."""
    nvim = nvim_or_skip()
    tmp_path = tmp_path_factory.mktemp("neovim")
    project = copy_shop(tmp_path)
    path = project / FILE
    before = path.read_text().splitlines()
    out = tmp_path / "nvim-out"
    out.mkdir()
    result = run_nvim(nvim, project, out, tmp_path / "xdg")
    return Session(result, before, path.read_text())


def test_neovim_diagnostics_and_cast_quickfix(session: Session) -> None:
    result, before = session.result, session.before

    assert result["filetype"] == "python"
    # What EXPECTED.md plants in app/routes/auth.py, as (code, line, column): 0-based, and in
    # bytes, which are the LSP columns here since both lines are ASCII.
    found = {(d["code"], d["lnum"], d["col"]) for d in result["diagnostics"]}
    assert found == {
        ("SQL_INJECTION", 52, 80),
        ("SELECT_STAR", CAST_LINE, 31),
        ("TYPE_MISMATCH", CAST_LINE, CAST_COL),
    }, result["diagnostics"]
    diag = next(d for d in result["diagnostics"] if d["code"] == "TYPE_MISMATCH")
    assert (diag["lnum"], diag["col"], diag["end_lnum"], diag["end_col"]) == (
        CAST_LINE,
        CAST_COL,
        CAST_LINE,
        CAST_END,
    ), diag
    assert diag["severity"] == INFORMATION, diag
    assert diag["source"] == "dbheal", diag

    # The quickfix was applied through Neovim and saved: the cast is gone (the value is bound
    # instead, as docs/fixes.md says of an f-string), and no other line changed.
    assert result["chosen"].startswith("Remove the int() cast"), result["code_actions"]
    after = session.after.splitlines()
    assert len(after) == len(before)
    assert [line for i, line in enumerate(after) if i != CAST_LINE] == [
        line for i, line in enumerate(before) if i != CAST_LINE
    ]
    assert before[CAST_LINE] == (
        '    return db.execute(f"SELECT * FROM sessions WHERE user_id = {int(user_id)}").fetchall()'
    )
    assert after[CAST_LINE] == FIXED_LINE
    ast.parse(session.after)

    # Saving the fixed file checked it again: the TYPE_MISMATCH is gone, the rest is still there.
    assert result["cleared"], result["diagnostics_after"]
    assert {(d["code"], d["lnum"]) for d in result["diagnostics_after"]} == {
        ("SQL_INJECTION", 52),
        ("SELECT_STAR", CAST_LINE),
    }, result["diagnostics_after"]


def test_neovim_hover_on_k(session: Session) -> None:
    """K, mapped by init.lua, shows the table's columns and the column's type in a float."""
    result = session.result
    assert result["k_mapping"] == {"buffer": True, "lua": True, "desc": "dbheal hover"}, result
    assert result["sql_line"] == FIXED_LINE
    table = result.get("hover_table")
    assert table, f"no hover window for `sessions`: {result['messages']}"
    text = "\n".join(table)
    assert "`sessions` — 5 columns" in table[0], table
    # The schema of examples/shop/migrations/002_sessions.sql, as the user reads it.
    for shown in ("`id` TEXT PRIMARY KEY", "`user_id` TEXT NOT NULL", "`expires_at` INTEGER"):
        assert shown in text, table
    assert "migrations/002_sessions.sql" in text, table
    column = result.get("hover_column")
    assert column, f"no hover window for `user_id`: {result['messages']}"
    assert "`sessions.user_id` — TEXT" in column[0] and "NOT NULL" in "\n".join(column), column


def test_neovim_omnifunc_completion(session: Session) -> None:
    """CTRL-X CTRL-O offers the shop's tables after FROM and the table's columns after WHERE."""
    result = session.result
    assert result["omnifunc"] == "v:lua.vim.lsp.omnifunc", result
    tables = result.get("complete_table")
    assert tables, "no completion tried: the omnifunc is not the LSP client's"
    words = [item["word"] for item in tables["items"]]
    assert {"sessions", "users", "orders", "products"} <= set(words), tables
    kinds = {item["word"]: item["kind"] for item in tables["items"]}
    assert kinds["sessions"] == kinds["users"] == "Class", tables  # a table, as the menu marks it
    assert tables["pum_visible"], tables
    # The menu's first entry is put in while the menu is up; CTRL-E took it back.
    assert tables["line"] != FIXED_LINE and tables["line_after"] == FIXED_LINE, tables

    columns = result["complete_column"]
    offered = {item["word"]: item for item in columns["items"]}
    # The columns of `sessions`, the table in scope, come first in the menu, then the tables.
    first = {item["word"] for item in columns["items"][:5]}
    assert first == {"id", "user_id", "token", "created_at", "expires_at"}, columns
    assert offered["user_id"]["kind"] == "Field", offered["user_id"]
    assert "TEXT" in offered["user_id"]["menu"], offered["user_id"]
    assert columns["line_after"] == FIXED_LINE, columns


def test_editors_doc_gives_the_tested_set_up() -> None:
    """docs/editors.md shows, as one Lua block, exactly the init.lua this test runs."""
    assert documented_block("lua", INIT_LUA)


def test_neovim_checks_a_typescript_file_at_its_byte_columns(tmp_path: Path) -> None:
    """init.lua starts dbheal for a `.ts` buffer too (filetype typescript), and the misspelt
    column is underlined at its byte column, after `é` (2 bytes) and an emoji (4 bytes)."""
    nvim = nvim_or_skip()
    project = copy_shop(tmp_path)
    (project / "web").mkdir()
    (project / "web" / "sessions.ts").write_text(SESSIONS_TS, encoding="utf-8")
    out = tmp_path / "nvim-out"
    out.mkdir()
    result = run_nvim(nvim, project, out, tmp_path / "xdg", "web/sessions.ts", DIAGNOSTICS_LUA)
    assert result["filetype"] == "typescript"
    line = SESSIONS_TS.splitlines()[4]
    col = len(line[: line.index("tokn")].encode("utf-8"))
    assert col == 60
    assert [(d["code"], d["lnum"], d["col"], d["end_col"]) for d in result["diagnostics"]] == [
        ("MISSING_COLUMN", 4, col, col + 4)
    ], result["diagnostics"]


# A TypeScript file of the shop's front end: the cast in a template literal, after `Café 🍵` on
# the same line, in a call with a type argument (which tree-sitter-typescript misreads alone).
SESSIONS_CAST_TS = """\
// The « signed-in devices » page 🍵.
import { db } from "./db";

export async function sessionsFor(userId: string): Promise<Session[]> {
  const label = "Café 🍵"; return db.query<Session>(`SELECT id, token FROM sessions WHERE user_id = ${parseInt(userId)}`);
}
"""


def test_neovim_applies_the_cast_fix_in_a_typescript_file(tmp_path: Path) -> None:
    """In a `.ts` buffer, the code action removing `parseInt()` is offered at the mismatch and
    applied through Neovim's own WorkspaceEdit, in UTF-16 columns past `é` and an emoji: the
    saved file binds userId with `?` and a values array, and its re-check clears the issue."""
    nvim = nvim_or_skip()
    project = copy_shop(tmp_path)
    (project / "web").mkdir()
    path = project / "web" / "sessions.ts"
    path.write_text(SESSIONS_CAST_TS, encoding="utf-8")
    out = tmp_path / "nvim-out"
    out.mkdir()
    result = run_nvim(
        nvim,
        project,
        out,
        tmp_path / "xdg",
        "web/sessions.ts",
        DRIVE_LUA,
        DBHEAL_NVIM_FILETYPE="typescript",
        DBHEAL_NVIM_FIX_ONLY="1",
    )
    assert result["filetype"] == "typescript"
    line = SESSIONS_CAST_TS.splitlines()[4]
    col = len(line[: line.index("parseInt")].encode("utf-8"))  # vim.diagnostic's byte column
    assert [(d["code"], d["lnum"], d["col"]) for d in result["diagnostics"]] == [
        ("TYPE_MISMATCH", 4, col)
    ], result["diagnostics"]
    assert result["chosen"].startswith("Remove the parseInt() cast"), result["code_actions"]
    expected = SESSIONS_CAST_TS.replace(
        "user_id = ${parseInt(userId)}`);", "user_id = ?`, [userId]);"
    )
    assert expected != SESSIONS_CAST_TS
    assert path.read_text(encoding="utf-8") == expected
    assert result["cleared"] and result["diagnostics_after"] == [], result["diagnostics_after"]

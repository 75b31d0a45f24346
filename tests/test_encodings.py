"""Python files in other encodings than UTF-8 are read as Python reads them (PEP 263).

A UTF-8 BOM, a `# -*- coding: latin-1 -*-` line (or cp1252): the file is checked like any
other, through the real `dbheal check` and the language server's start-up scan, with its
findings at the columns an editor shows. Only bytes that Python itself could not decode make
a file skipped, and then with a note that says so.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from dbheal_lsp.files import SourceNotText, python_source
from tests.conftest import copy_shop, run_dbheal
from tests.hook.repo import CRITICAL, ENV, commit, git_ok, head
from tests.lsp.client import session, until, uri_of

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
# One line with a non-ASCII character before the finding: its column shows a wrong decoding.
QUERY = 'conn.execute("SELECT nmae FROM users")  # café\n'
LATIN1_QUERY = 'label = "Ünïcode"; conn.execute("SELECT nmae FROM users")\n'
HEADER = 'import sqlite3\n\nconn = sqlite3.connect("app.db")\n'


def project(root: Path, files: dict[str, bytes]) -> Path:
    """Write a project at `root`: pyproject.toml, app.db and `files` (raw bytes)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.dbheal]\ndatabase = "app.db"\n', encoding="utf-8"
    )
    conn = sqlite3.connect(root / "app.db")
    conn.executescript(SCHEMA)
    conn.close()
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    return root


def latin1_file(coding: str = "latin-1") -> bytes:
    return (f"# -*- coding: {coding} -*-\n" + HEADER + LATIN1_QUERY).encode(coding)


def check_json(root: Path) -> tuple[list[dict[str, object]], str]:
    done = run_dbheal(root, "check", "--no-cache", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("coding", ["latin-1", "cp1252", "iso-8859-15"])
def test_a_file_with_a_coding_line_is_checked_at_the_right_column(
    tmp_path: Path, coding: str
) -> None:
    root = project(tmp_path / "p", {"legacy.py": latin1_file(coding)})

    issues, stderr = check_json(root)

    assert "skipped" not in stderr
    (missing,) = [i for i in issues if i["type"] == "MISSING_COLUMN"]
    assert missing["path"] == "legacy.py"
    assert missing["line"] == 5
    # Counted in characters of the decoded line: "Ü" and "ï" are one column each.
    assert missing["column"] == LATIN1_QUERY.index("nmae") + 1


def test_a_file_with_a_bom_is_checked(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"bom.py": b"\xef\xbb\xbf" + (HEADER + QUERY).encode()})

    issues, _ = check_json(root)

    (missing,) = [i for i in issues if i["type"] == "MISSING_COLUMN"]
    assert (missing["line"], missing["column"]) == (4, QUERY.index("nmae") + 1)


def test_text_output_lists_the_latin1_finding_not_a_skip(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"legacy.py": latin1_file()})

    done = run_dbheal(root, "check", "--no-cache")

    assert done.returncode == 1, done.stderr
    assert "legacy.py:5:" in done.stdout
    assert "not UTF-8" not in done.stdout + done.stderr
    assert "No issues found" not in done.stdout


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(HEADER.encode() + b'x = "\xe9"\n', "not UTF-8 text (byte 54)", id="no-coding"),
        pytest.param(
            b"# coding: cp1252\n" + HEADER.encode() + b'x = "\x81"\n',
            "not cp1252 text (byte 71), as its coding line says",
            id="cp1252-undefined-byte",
        ),
        pytest.param(
            b"# coding: klingon\nx = 1\n",
            "its coding line names an unknown encoding: klingon",
            id="unknown-encoding",
        ),
    ],
)
def test_an_undecodable_file_is_skipped_with_a_note(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    root = project(tmp_path / "p", {"bad.py": data, "good.py": (HEADER + QUERY).encode()})

    done = run_dbheal(root, "check", "--no-cache")

    assert done.returncode == 1, done.stderr
    (note,) = [line for line in (done.stdout + done.stderr).splitlines() if "bad.py" in line]
    assert f"skipped: {reason}" in note
    assert "good.py:4:" in done.stdout  # the other files are still checked
    with pytest.raises(SourceNotText, match=r"byte|coding line"):
        python_source(data)


def test_python_source_decodes_as_python_does() -> None:
    assert python_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert python_source("# coding: latin-1\nx = 'é'\r\n".encode("latin-1")).endswith("'é'\r\n")
    assert python_source(b"x = '\xc3\xa9'\n") == "x = 'é'\n"
    with pytest.raises(SourceNotText, match="contradicts its UTF-8 BOM"):
        python_source(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")


@pytest.mark.asyncio
async def test_the_workspace_scan_reports_a_latin1_file(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"legacy.py": latin1_file()})
    uri = uri_of(root / "legacy.py")
    async with session(root, "visual-studio-code") as client:
        found = await until(
            lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "MISSING_COLUMN"],
            "the start-up scan's diagnostics of legacy.py",
        )
    (missing,) = found
    assert isinstance(missing, lsp.Diagnostic)
    assert missing.range.start.line == 4
    # UTF-16 code units, as the client counts: the Latin-1 letters are one unit each.
    assert missing.range.start.character == LATIN1_QUERY.index("nmae")


def test_the_pre_commit_hook_checks_a_staged_latin1_file(tmp_path: Path) -> None:
    # The demo shop as a git repository with one commit, as tests/hook/repo.py makes it.
    shop = copy_shop(tmp_path)
    git_ok(shop, "init", "-q")
    git_ok(shop, "config", "user.name", "dbheal tests")
    git_ok(shop, "config", "user.email", "tests@dbheal.invalid")
    git_ok(shop, "config", "commit.gpgsign", "false")
    (shop / ".gitignore").write_text("shop.db\n.dbheal/\n__pycache__/\n", encoding="utf-8")
    git_ok(shop, "add", "-A")
    git_ok(shop, "commit", "-q", "-m", "baseline")
    done = run_dbheal(shop, "hook", "install", env=ENV)
    assert done.returncode == 0, done.stderr
    before = head(shop)
    source = "# -*- coding: latin-1 -*-\n# Relevé des commandes\n" + CRITICAL
    (shop / "app" / "legacy.py").write_bytes(source.encode("latin-1"))
    git_ok(shop, "add", "app/legacy.py")

    status, output = commit(shop)

    assert status != 0, output
    assert "app/legacy.py:" in output
    assert "MISSING_COLUMN" in output
    assert head(shop) == before

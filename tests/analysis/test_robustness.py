"""A stranger's file never crashes nor stalls a run: a table of hostile files, each run for real.

Every case is a Python file someone else wrote (a lone surrogate, a 10,000-term `+` chain, deep
nesting, a 50-200 KB SQL string shaped to make a regular expression backtrack) put next to a
normal file with a real finding. `dbheal check` (a real subprocess, generous timeout as the only
failure mode for "does not hang") must report the normal file's finding, check or note the
stranger's file, and exit by the findings, never with a traceback. `Project.check_source`, the
editor's entry, must never raise for such text.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from tests.conftest import run_dbheal

SCHEMA = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);"
HEADER = 'import sqlite3\n\ndb = sqlite3.connect("app.db")\n'
# The normal file: one critical finding the run must always report.
NORMAL = HEADER + 'db.execute("SELECT nmae FROM users WHERE id = ?", (1,))\n'
SELECT_1 = 'db.execute("SELECT 1")\n'


def _chain(n: int) -> str:
    return " + ".join('"a"' for _ in range(n))


def _sql_file(sql: str, *, slot: bool = False) -> str:
    """A module sending `sql` (optionally followed by an interpolated value) to execute."""
    if slot:
        return HEADER + f"def f(x):\n    db.execute({sql!r} + x)\n"
    return HEADER + f"db.execute({sql!r})\n"


# (name, file text, what the poison file must give: "note" or an issue type it still finds)
CASES: list[tuple[str, str, str]] = [
    (
        "surrogate_in_string",
        HEADER + 'x = "\\ud800"\ndb.execute("SELECT nope FROM users WHERE name = \'\\ud800\'")\n',
        "MISSING_COLUMN",
    ),
    (
        "surrogate_in_concatenated_sql",
        HEADER + 'x = "\\udcff"\ndb.execute("SELECT nope, \'" + x + "\' FROM users")\n'
        'db.execute("SELECT \\ud83d FROM users")\n',
        "MISSING_COLUMN",
    ),
    ("plus_chain_10000_assignment", HEADER + f"x = {_chain(10_000)}\n" + SELECT_1, "note"),
    ("plus_chain_10000_in_execute", HEADER + f"db.execute({_chain(10_000)})\n", "note"),
    (
        "plus_chain_300_in_execute",
        HEADER + f'db.execute("SELECT nope FROM users WHERE name = " + {_chain(300)})\n',
        "MISSING_COLUMN",
    ),
    ("nested_calls", HEADER + "db.execute(" + "f(" * 5000 + ")" * 5001 + "\n", "note"),
    ("nested_lists", HEADER + "x = " + "[" * 5000 + "]" * 5000 + "\n" + SELECT_1, "note"),
    (
        "nested_sql_parentheses",
        _sql_file("SELECT nope FROM users WHERE id IN " + "(" * 3000 + "1" + ")" * 3000),
        "SQL_SYNTAX",
    ),
    (
        "nested_sql_subqueries",
        _sql_file("SELECT nope FROM users WHERE id IN (SELECT " * 300 + "1" + ")" * 300),
        "SQL_SYNTAX",
    ),
    # Strings shaped for backtracking: each scan must stay linear in the string's length.
    ("comments_before_sql", _sql_file("/* */ " * 40 + "(nope) FROM users"), "SQL_SYNTAX"),
    (
        "unterminated_brackets",
        _sql_file("SELECT nope FROM users WHERE " + "[" * 400_000),
        "SQL_SYNTAX",
    ),
    (
        "unterminated_brackets_with_slot",
        _sql_file("SELECT nope FROM users WHERE " + "[" * 400_000, slot=True),
        "SQL_INJECTION",
    ),
    (
        "long_word_before_slot",
        HEADER
        + f"def f(x):\n    db.execute('SELECT nope FROM users WHERE {'a' * 200_000}-' + x)\n",
        "SQL_INJECTION",
    ),
    (
        "percent_keys_unclosed",
        HEADER + f"db.execute('SELECT nope FROM users {'%(' * 100_000}' % {{'a': 1}})\n",
        "SQL_SYNTAX",
    ),
    (
        "format_of_a_long_call",
        HEADER
        + "db.execute('SELECT nope FROM users WHERE id IN ("
        + "{}, " * 2_000
        + "1)'.format(*range(10)))\n",
        "MISSING_COLUMN",
    ),
    (
        "many_quotes_and_spaces",
        _sql_file("SELECT nope FROM users WHERE name = " + "'a'  ||  " * 20_000 + "'b'"),
        "SQL_SYNTAX",
    ),
    (
        "unterminated_quote_and_comment",
        _sql_file("SELECT nope FROM users /*" + " '\" x" * 40_000),
        "MISSING_COLUMN",
    ),
    (
        # Blank SQL and a slot with blanks around it: neither reads as a statement.
        "blank_sql_to_a_helper",
        HEADER + 'db.query("   ")\ndb.query(f"  {db}  ")\n' + NORMAL.removeprefix(HEADER),
        "MISSING_COLUMN",
    ),
    (
        "many_placeholders_and_commas",
        _sql_file("SELECT nope FROM users WHERE id IN (" + "?, " * 30_000 + "?)"),
        "MISSING_COLUMN",
    ),
]


def make_project(root: Path, files: dict[str, str]) -> Path:
    """Write a project at `root`: pyproject.toml, a real app.db and `files`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.dbheal]\ndatabase = "app.db"\n', encoding="utf-8"
    )
    conn = sqlite3.connect(root / "app.db")
    conn.executescript(SCHEMA)
    conn.close()
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def dbheal(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `dbheal ARGS` in `cwd`; its output must be valid UTF-8, and a hang fails the test."""
    return run_dbheal(cwd, *args, env=env)


ISSUE_LINE = re.compile(r"^(?P<path>\S+?):\d+:\d+: (?:critical|high|medium|low) (?P<type>[A-Z_]+) ")
NOTE_LINE = re.compile(r"^(?P<path>\S+?)(?::\d+)?: note: (?P<message>.*)$")


def report(out: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the (path, type) of each issue and the (path, message) of each note of a text
    report, as the user reads them."""
    issues: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    for line in out.splitlines():
        if m := ISSUE_LINE.match(line):
            issues.append((m["path"], m["type"]))
        elif m := NOTE_LINE.match(line):
            notes.append((m["path"], m["message"]))
    return issues, notes


@pytest.mark.parametrize(("name", "text", "expect"), CASES, ids=[c[0] for c in CASES])
def test_a_strangers_file_is_checked_or_noted_and_the_others_still_are(
    tmp_path: Path, name: str, text: str, expect: str
) -> None:
    root = make_project(tmp_path / "p", {"normal.py": NORMAL, "poison.py": text})
    # A file that must be checked gets a budget no loaded machine reaches: what is asserted is
    # that it is checked, not how fast (the speed of each scan is bench/'s to measure).
    budget = {"DBHEAL_FILE_BUDGET": "100"} if expect != "note" else None
    run = dbheal(root, "check", "--no-cache", ".", env=budget)
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 1, run.stderr[-2000:]  # the normal file's critical finding
    issues, notes = report(run.stdout)
    assert [t for p, t in issues if p == "normal.py"] == ["MISSING_COLUMN"]
    mine = [m for p, m in notes if p == "poison.py"]
    if expect == "note":
        assert len(mine) == 1 and mine[0].startswith("not checked: "), run.stdout[-2000:]
    else:
        assert not mine, mine
        assert expect in {t for p, t in issues if p == "poison.py"}, run.stdout[-2000:]


def test_poison_files_among_many_checked_in_parallel(tmp_path: Path) -> None:
    files = {f"m{n:02}.py": NORMAL for n in range(60)}  # more than the parallel threshold
    files.update({name + ".py": text for name, text, _ in CASES[:7]})
    root = make_project(tmp_path / "p", files)
    run = dbheal(root, "check", "--no-cache", "--jobs", "2", ".")
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 1
    issues, notes = report(run.stdout)
    assert {p for p, t in issues if t == "MISSING_COLUMN"} >= set(files) - {
        name + ".py" for name, _, expect in CASES[:7] if expect == "note"
    }
    assert {p for p, _ in notes} == {name + ".py" for name, _, e in CASES[:7] if e == "note"}


def test_check_source_never_raises_for_a_strangers_text(tmp_path: Path) -> None:
    """The editor's entry point: any text gives a result (issues or a note), never an exception."""
    root = make_project(tmp_path / "p", {})
    project = load_project(root)
    texts = [text for _, text, _ in CASES] + [
        # What an editor may send that a file on disk cannot hold: lone surrogates as characters.
        HEADER + "db.execute(\"SELECT nope FROM users WHERE name = '\ud800'\")\n",
        HEADER + 'db.execute("SELECT \udcff FROM users")  # \udfff\n',
        HEADER + "db.execute('SELECT 1')\x00\n",
    ]
    for text in texts:
        result = project.check_source("poison.py", text)
        assert result.issues or result.notes or result.statements >= 0


def test_a_file_over_its_budget_gets_a_note_and_the_run_goes_on(tmp_path: Path) -> None:
    many = HEADER + "".join(f'db.execute("SELECT nope{i} FROM users")\n' for i in range(200))
    root = make_project(tmp_path / "p", {"many.py": many, "plain.py": "x = 1\n"})
    run = dbheal(root, "check", "--no-cache", ".", env={"DBHEAL_FILE_BUDGET": "0"})
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    issues, notes = report(run.stdout)
    mine = [m for p, m in notes if p == "many.py"]
    assert len(mine) == 1 and mine[0].startswith("not checked: "), run.stdout
    assert "budget" in mine[0]
    assert not issues
    assert run.returncode == 0  # nothing was found


def test_a_check_cut_by_its_budget_is_not_cached(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"normal.py": NORMAL})
    cut = dbheal(root, "check", ".", env={"DBHEAL_FILE_BUDGET": "0"})
    assert cut.returncode == 0 and "not checked: " in cut.stdout
    full = dbheal(root, "check", ".")
    assert full.returncode == 1
    assert report(full.stdout) == ([("normal.py", "MISSING_COLUMN")], [])


def test_a_bad_budget_setting_is_one_clear_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"normal.py": NORMAL})
    run = dbheal(root, "check", "--no-cache", ".", env={"DBHEAL_FILE_BUDGET": "soon"})
    assert run.returncode == 2
    assert run.stderr.startswith("dbheal: error: ") and "DBHEAL_FILE_BUDGET" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_folder_without_a_database_survives_a_poison_file(tmp_path: Path) -> None:
    """No database nor migrations: the schema comes from DDL in code, read from every file."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.dbheal]\n')
    (root / "schema.py").write_text(
        HEADER + 'db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")\n'
    )
    (root / "normal.py").write_text(NORMAL)
    (root / "poison.py").write_text(HEADER + f"x = {_chain(10_000)}\n" + SELECT_1)
    (root / "poison2.py").write_text(HEADER + 'db.execute("SELECT \\ud800 FROM users")\n')
    run = dbheal(root, "check", "--no-cache", ".")
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    issues, notes = report(run.stdout)
    assert ("normal.py", "MISSING_COLUMN") in issues
    assert [p for p, _ in notes] == ["poison.py"]
    assert run.returncode == 1


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_a_file_name_that_is_not_utf8_is_shown_in_every_format(tmp_path: Path, fmt: str) -> None:
    root = make_project(tmp_path / "p", {"normal.py": NORMAL})
    name = os.fsdecode(b"bad\xff.py")  # a name with a byte that is not UTF-8
    (root / name).write_text(NORMAL, encoding="utf-8")
    run = dbheal(root, "check", "--no-cache", "--format", fmt, ".")
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode == 1
    assert "normal.py" in run.stdout and "bad" in run.stdout
    if fmt == "json":
        paths = {i["path"] for i in json.loads(run.stdout)}
        assert len(paths) == 2
    if fmt == "sarif":
        results = json.loads(run.stdout)["runs"][0]["results"]
        assert len(results) == 2


def test_fix_survives_a_strangers_file(tmp_path: Path) -> None:
    files = {
        "normal.py": NORMAL,
        "sur.py": HEADER + "db.execute(\"SELECT nmae FROM users WHERE name = '\\ud800'\")\n",
        "chain.py": HEADER + f"x = {_chain(10_000)}\n",
        "chain2.py": HEADER
        + f'db.execute("SELECT nmae FROM users WHERE name = " + {_chain(300)})\n',
    }
    root = make_project(tmp_path / "p", files)
    before = {rel: (root / rel).read_bytes() for rel in files}
    run = dbheal(root, "fix", ".")
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "normal.py" in run.stdout and "name" in run.stdout  # the did-you-mean fix is shown
    assert {rel: (root / rel).read_bytes() for rel in files} == before  # only shown, not written

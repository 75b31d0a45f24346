"""`dbheal check` as a user runs it: a real subprocess on small projects in `tmp_path`.

Each project has a pyproject.toml with a [tool.dbheal] section (so that it is its own root), a
real SQLite database and a few Python modules. The tests read what the user reads: standard
output in the three formats, the one-line error on standard error, the exit status and the
cache folder left behind.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from dbheal_lsp.files import project_cache_dir
from tests.cli.projects import CLEAN, CRITICAL, HEADER, LOW, make_project
from tests.conftest import run_dbheal
from tests.test_report import JSON_KEYS  # the documented keys, listed once

ISSUE_LINE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>critical|high|medium|low) "
    r"(?P<type>[A-Z_]+) (?P<message>.+)$"
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dbheal check ARGS` in `cwd` and return the finished process."""
    return run_dbheal(cwd, "check", *args)


def column_of(source: str, needle: str) -> tuple[int, int]:
    """Return the 1-based (line, column) of the first `needle` in `source`."""
    for number, line in enumerate(source.splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in source")


# --- output formats -----------------------------------------------------------------------------


def test_text_output_is_grouped_by_file_with_a_summary(project: Path) -> None:
    done = dbheal(project, "--no-cache")

    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    blocks = done.stdout.rstrip("\n").split("\n\n")
    assert len(blocks) == 4  # two files with issues, the notes, the summary
    listing = blocks[0].splitlines()
    assert listing[0] == "app/listing.py (1 issue)"
    star_line, star_col = column_of(LOW, "*")
    assert listing[1].startswith(f"app/listing.py:{star_line}:{star_col}: low SELECT_STAR ")
    users = blocks[1].splitlines()
    assert users[0] == "app/users.py (1 issue)"
    match = ISSUE_LINE.match(users[1])
    assert match is not None, users[1]
    line, col = column_of(CRITICAL, "nmae")
    assert match.group("path", "line", "col", "severity", "type") == (
        "app/users.py",
        str(line),
        str(col),
        "critical",
        "MISSING_COLUMN",
    )
    assert "nmae" in match.group("message")
    assert "'name'" in match.group("message")
    assert blocks[2].startswith("app/broken.py:4: note: ")
    assert "syntax error" in blocks[2]
    assert blocks[3] == (
        "Found 2 issues (1 critical, 1 low) in 2 of 5 files; 3 statements checked against app.db."
    )


def test_every_issue_line_has_the_documented_shape(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--color", "never")

    issue_lines = [line for line in done.stdout.splitlines() if ISSUE_LINE.match(line)]
    assert len(issue_lines) == 2
    for line in issue_lines:
        path = line.split(":", 1)[0]
        assert (project / path).is_file()


def test_json_output_has_the_documented_keys_and_1_based_positions(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--format", "json")

    assert done.returncode == 1
    issues = json.loads(done.stdout)
    assert [(i["path"], i["type"], i["severity"]) for i in issues] == [
        ("app/listing.py", "SELECT_STAR", "low"),
        ("app/users.py", "MISSING_COLUMN", "critical"),
        ("app/broken.py", "NOTE", "note"),  # notes follow the issues, with the same keys
    ]
    for issue in issues:
        assert set(issue) == JSON_KEYS
    missing = issues[1]
    line, col = column_of(CRITICAL, "nmae")
    assert (missing["line"], missing["column"]) == (line, col)
    assert (missing["end_line"], missing["end_column"]) == (line, col + len("nmae"))
    assert missing["table"] == "users"
    assert missing["column_name"] == "nmae"
    assert missing["suggestion"] == "name"
    star_line, star_col = column_of(LOW, "*")
    assert (issues[0]["line"], issues[0]["column"]) == (star_line, star_col)


def test_sarif_output_is_a_2_1_0_log_with_results(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--format", "sarif")

    assert done.returncode == 1
    log = json.loads(done.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "dbheal"
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["SELECT_STAR", "MISSING_COLUMN"]
    assert [r["level"] for r in results] == ["note", "error"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/users.py"
    line, col = column_of(CRITICAL, "nmae")
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (line, col)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == [
        "app/broken.py"
    ]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("text", "No issues found in 1 file; 1 statement checked against app.db.\n"),
        ("json", "[]\n"),
    ],
)
def test_clean_project_output(tmp_path: Path, fmt: str, expected: str) -> None:
    root = make_project(tmp_path / "clean", {"app.py": CLEAN})

    done = dbheal(root, "--no-cache", "--format", fmt)

    assert done.returncode == 0
    assert done.stdout == expected


def test_clean_project_sarif_still_has_empty_results(tmp_path: Path) -> None:
    root = make_project(tmp_path / "clean", {"app.py": CLEAN})

    done = dbheal(root, "--no-cache", "--format", "sarif")

    assert done.returncode == 0
    assert json.loads(done.stdout)["runs"][0]["results"] == []


# --- exit status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "args", "status"),
    [
        pytest.param({"app.py": CLEAN}, [], 0, id="clean"),
        pytest.param({"app.py": CRITICAL}, [], 1, id="critical"),
        pytest.param({"app.py": LOW}, [], 0, id="low-default"),
        pytest.param({"app.py": LOW}, ["--fail-on", "critical"], 0, id="low-fail-on-critical"),
        pytest.param({"app.py": LOW}, ["--fail-on", "low"], 1, id="low-fail-on-low"),
        pytest.param({"app.py": LOW}, ["--fail-on", "medium"], 0, id="low-fail-on-medium"),
        pytest.param({"app.py": CRITICAL}, ["--fail-on", "high"], 1, id="critical-fail-on-high"),
    ],
)
def test_exit_status(tmp_path: Path, files: dict[str, str], args: list[str], status: int) -> None:
    root = make_project(tmp_path / "proj", files)

    done = dbheal(root, "--no-cache", *args)

    assert done.returncode == status, done.stdout + done.stderr
    assert done.stderr == ""


def test_fail_on_from_pyproject_is_used(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"app.py": LOW}, 'fail-on = "low"\n')

    assert dbheal(root, "--no-cache").returncode == 1
    assert dbheal(root, "--no-cache", "--fail-on", "critical").returncode == 0


# --- colour and cache ---------------------------------------------------------------------------


def test_color_never_has_no_escape_codes(project: Path) -> None:
    never = dbheal(project, "--no-cache", "--color", "never")
    always = dbheal(project, "--no-cache", "--color", "always")

    assert "\x1b" not in never.stdout + never.stderr
    assert ANSI.search(always.stdout) is not None
    assert ANSI.sub("", always.stdout) == never.stdout


def test_no_cache_writes_no_cache(project: Path) -> None:
    done = dbheal(project, "--no-cache")

    assert done.returncode == 1
    assert not (project / ".dbheal").exists()


def test_cache_is_written_and_the_second_run_is_identical(project: Path) -> None:
    first = dbheal(project)
    # In the user's cache directory (DBHEAL_CACHE_DIR, set by conftest), not in the project.
    cache = project_cache_dir(project) / "check.json"
    assert not (project / ".dbheal").exists()
    assert cache.is_file()
    written = cache.read_bytes()
    stamp = cache.stat().st_mtime_ns
    cached_files = set(json.loads(written)["files"])
    assert cached_files == {
        "app/__init__.py",
        "app/users.py",
        "app/listing.py",
        "app/clean.py",
        "app/broken.py",
    }

    second = dbheal(project)

    assert second.returncode == first.returncode == 1
    assert second.stdout == first.stdout
    assert second.stderr == first.stderr == ""
    assert cache.read_bytes() == written
    assert cache.stat().st_mtime_ns == stamp  # nothing changed, so nothing was re-checked


def test_cached_run_sees_an_edit(project: Path) -> None:
    dbheal(project)
    (project / "app" / "users.py").write_text(CLEAN, encoding="utf-8")

    done = dbheal(project)

    assert done.returncode == 0
    assert "app/users.py" not in done.stdout
    assert "app/listing.py:4:22: low SELECT_STAR" in done.stdout


def test_json_paths_are_relative_to_the_project_root(project: Path) -> None:
    # docs/output.md: JSON paths are relative to the project root, wherever dbheal runs.
    done = dbheal(project / "app", "--no-cache", "--format", "json", ".")

    found = [i for i in json.loads(done.stdout) if i["type"] != "NOTE"]
    assert sorted(i["path"] for i in found) == ["app/listing.py", "app/users.py"]
    assert done.returncode == 1


# --- baseline -----------------------------------------------------------------------------------

BASELINE_KEYS = ["fingerprint", "type", "path", "message"]


def test_a_missing_baseline_is_written_with_the_current_findings(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--baseline", "dbheal-baseline.json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Recorded 2 findings in dbheal-baseline.json" in done.stdout
    assert not any(ISSUE_LINE.match(line) for line in done.stdout.splitlines())
    data = json.loads((project / "dbheal-baseline.json").read_text(encoding="utf-8"))
    findings = data["findings"]
    assert [list(f) for f in findings] == [BASELINE_KEYS, BASELINE_KEYS]
    # Sorted by path (relative to the project root, whatever the working directory).
    assert [(f["path"], f["type"]) for f in findings] == [
        ("app/listing.py", "SELECT_STAR"),
        ("app/users.py", "MISSING_COLUMN"),
    ]
    assert all(len(f["fingerprint"]) >= 16 for f in findings)


def test_known_findings_are_not_shown_and_do_not_fail(project: Path) -> None:
    dbheal(project, "--no-cache", "--baseline", "base.json")

    done = dbheal(project, "--no-cache", "--baseline", "base.json", "--fail-on", "low")

    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(ISSUE_LINE.match(line) for line in done.stdout.splitlines())
    assert "2 known findings from base.json not shown" in done.stdout
    assert "app/broken.py" in done.stdout  # notes are still shown


def test_only_new_findings_fail_even_after_edits_elsewhere(project: Path) -> None:
    dbheal(project, "--no-cache", "--baseline", "base.json")
    users = project / "app" / "users.py"
    # Lines added above the known finding (it moves), and a new finding below it.
    moved = CRITICAL.replace(HEADER, HEADER + "\n\ndef helper():\n    return 1\n\n")
    users.write_text(
        moved + 'conn.execute("SELECT emial FROM users WHERE id = ?", (2,))\n', encoding="utf-8"
    )

    done = dbheal(project, "--no-cache", "--baseline", "base.json")

    assert done.returncode == 1
    shown = [m.group("message") for m in map(ISSUE_LINE.match, done.stdout.splitlines()) if m]
    assert len(shown) == 1 and "emial" in shown[0]
    assert "2 known findings from base.json not shown" in done.stdout


def test_update_baseline_records_the_new_findings(project: Path) -> None:
    dbheal(project, "--no-cache", "--baseline", "base.json")
    (project / "app" / "clean.py").write_text(LOW, encoding="utf-8")
    before = dbheal(project, "--no-cache", "--baseline", "base.json", "--fail-on", "low")
    assert before.returncode == 1

    updated = dbheal(
        project, "--no-cache", "--baseline", "base.json", "--update-baseline", "--fail-on", "low"
    )

    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Recorded 3 findings in base.json" in updated.stdout
    after = dbheal(project, "--no-cache", "--baseline", "base.json", "--fail-on", "low")
    assert after.returncode == 0
    assert "3 known findings from base.json not shown" in after.stdout


def test_a_baseline_is_stable_and_portable(project: Path) -> None:
    dbheal(project, "--no-cache", "--baseline", "base.json")
    first = (project / "base.json").read_bytes()
    # Rewritten from a sub-folder of the project: the same bytes (paths are the root's).
    dbheal(project / "app", "--no-cache", "--baseline", "../base.json", "--update-baseline", "..")

    assert (project / "base.json").read_bytes() == first
    from_app = dbheal(project / "app", "--no-cache", "--baseline", "../base.json", "..")
    assert from_app.returncode == 0
    assert "2 known findings from ../base.json not shown" in from_app.stdout


def test_a_baseline_with_json_output_keeps_stdout_valid(project: Path) -> None:
    dbheal(project, "--no-cache", "--baseline", "base.json")
    (project / "app" / "clean.py").write_text(CRITICAL, encoding="utf-8")

    done = dbheal(project, "--no-cache", "--baseline", "base.json", "--format", "json")

    assert done.returncode == 1
    assert [i["path"] for i in json.loads(done.stdout)] == ["app/clean.py", "app/broken.py"]
    assert "2 known findings from base.json not shown" in done.stderr


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[1, 2]", id="a-list"),
        pytest.param(b'{"dbheal-baseline": 1, "findings": [{"type": "X"}]}', id="no-fingerprint"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
    ],
)
def test_a_corrupt_baseline_is_one_line_and_exit_2(project: Path, content: bytes) -> None:
    (project / "base.json").write_bytes(content)

    done = dbheal(project, "--no-cache", "--baseline", "base.json")

    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("dbheal: error: ") and "base.json" in line
    assert (project / "base.json").read_bytes() == content


def test_update_baseline_needs_a_baseline_file(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--update-baseline")

    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "--update-baseline" in line and "--baseline" in line


def test_a_baseline_that_is_a_folder_is_one_line(project: Path) -> None:
    (project / "base").mkdir()

    done = dbheal(project, "--no-cache", "--baseline", "base")

    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("dbheal: error: ") and "base" in line


def test_the_summary_names_the_database_and_the_partly_checked_statements(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    conn.close()
    (tmp_path / "app.py").write_text(
        "import sqlite3\n"
        "db = sqlite3.connect('app.db')\n"
        "def f(cond):\n"
        "    return db.execute('SELECT nmae FROM users WHERE age = 0 %s' % cond)\n"
        "def g():\n"
        "    return db.execute('SELECT name FROM users')\n",
        encoding="utf-8",
    )
    done = run_dbheal(tmp_path, "check", "--database", "app.db", "--no-cache", "app.py")
    lines = done.stdout.splitlines()
    # The piece of SQL does not hide the misspelt column the code spells out before it.
    assert any("MISSING_COLUMN" in line and "nmae" in line for line in lines), done.stdout
    assert lines[-1].endswith("2 statements checked against app.db, 1 of them partly."), lines

"""`include` and `exclude`: one glob dialect for both (dbheal_lsp/globs.py), as `dbheal check`
applies it to a real project tree, and the warning for a pattern that matches no file.

The table is the dialect, case by case; the tests below it run the real command line on
projects in `tmp_path` and read what the user reads: which files were checked (the issues
reported in them and the "N files checked" summary), the warnings on standard error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from dbheal_lsp.config import excluded, included
from dbheal_lsp.globs import GlobSet
from tests.cli.projects import CRITICAL, make_project
from tests.conftest import run_dbheal

# (pattern, path relative to the project root, is the path a folder?, does the pattern match?)
CASES: list[tuple[str, str, bool, bool]] = [
    # A name with no slash: a file or folder of that name at any depth, and all under a folder.
    ("pkg", "pkg/a.py", False, True),
    ("pkg", "pkg/sub/a.py", False, True),
    ("pkg", "src/pkg/a.py", False, True),
    ("pkg", "pkg", True, True),
    ("pkg", "pkgx/a.py", False, False),
    ("pkg", "mypkg/a.py", False, False),
    ("tests", "app/tests/test_x.py", False, True),
    ("make_db.py", "make_db.py", False, True),
    ("make_db.py", "tools/make_db.py", False, True),
    ("*_test.py", "a/b/users_test.py", False, True),
    ("*_test.py", "a/b/users_test.pyc", False, False),
    ("*.py", "a.py", False, True),
    ("*.py", "deep/down/a.py", False, True),
    ("test_*", "tests/test_users.py", False, True),
    ("?.py", "x/a.py", False, True),
    ("?.py", "x/ab.py", False, False),
    ("[ab].py", "a.py", False, True),
    ("[!ab].py", "a.py", False, False),
    ("[!ab].py", "c.py", False, True),
    # A path with a slash is relative to the root, and a folder means everything under it.
    ("src/pkg", "src/pkg/a.py", False, True),
    ("src/pkg", "src/pkg/sub/a.py", False, True),
    ("src/pkg", "lib/src/pkg/a.py", False, False),
    ("src/pkg", "src/pkgx/a.py", False, False),
    ("src/pkg/", "src/pkg/a.py", False, True),
    ("./src/pkg", "src/pkg/a.py", False, True),
    ("./pkg", "pkg/a.py", False, True),
    ("/src/pkg", "src/pkg/a.py", False, True),
    ("app/legacy", "app/legacy/old.py", False, True),
    ("app/legacy", "app/legacy", True, True),
    # `*` never crosses a slash; `**` is any number of folders (none included).
    ("src/*.py", "src/a.py", False, True),
    ("src/*.py", "src/sub/a.py", False, False),
    ("scripts/*", "scripts/run.py", False, True),
    ("scripts/*", "scripts/deep/run.py", False, True),  # scripts/deep is matched: a folder
    ("src/**/*.py", "src/a.py", False, True),
    ("src/**/*.py", "src/a/b/c.py", False, True),
    ("src/**/*.py", "lib/src/a.py", False, False),
    ("app/**/*.py", "app/models.py", False, True),
    ("**/models.py", "models.py", False, True),
    ("**/models.py", "a/b/models.py", False, True),
    ("**/models.py", "a/b/models.pyc", False, False),
    ("src/**", "src/a/b.py", False, True),
    ("src/**", "lib/a.py", False, False),
    ("a/**/b", "a/b/c.py", False, True),
    ("a/**/b", "a/x/y/b/c.py", False, True),
    ("a/**/b", "a/xb/c.py", False, False),
    ("**", "anything/at/all.py", False, True),
    # A trailing slash: only a folder.
    ("build/", "build/a.py", False, True),
    ("build/", "build", False, False),
    ("build/", "build", True, True),
    ("tests/", "app/tests/a.py", False, True),
    # The root itself.
    (".", "a/b.py", False, True),
    # Case matters, as it does on the file system dbheal runs on.
    ("Pkg", "pkg/a.py", False, False),
]


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    CASES,
    ids=[f"{p}|{r}{'/' if d else ''}" for p, r, d, _ in CASES],
)
def test_the_glob_dialect(pattern: str, path: str, is_dir: bool, expected: bool) -> None:
    globs = GlobSet.of([pattern])

    assert (globs.matching(path, is_dir=is_dir) == (pattern,)) is expected


@pytest.mark.parametrize("pattern", ["", "  ", "[z-a].py"])
def test_a_pattern_that_names_nothing_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        GlobSet.of([pattern])


def test_include_and_exclude_share_the_dialect_and_exclude_wins() -> None:
    include, exclude = ("src/pkg",), ("tests", "src/pkg/legacy/")

    assert included(("src", "pkg", "a.py"), include, exclude)
    assert not included(("src", "other.py"), include, exclude)
    assert not included(("src", "pkg", "tests", "test_a.py"), include, exclude)
    assert not included(("src", "pkg", "legacy", "old.py"), include, exclude)
    assert excluded(("src", "pkg", "legacy", "old.py"), exclude)
    assert excluded((".venv", "lib", "x.py"), ())  # always skipped
    assert included(("a.py",), (), ())  # no include: every file


# --- dbheal check on a real tree ------------------------------------------------------------


def _checked_files(stdout: str) -> int:
    found = re.search(r"(\d+) files?; ", stdout)
    assert found, stdout
    return int(found.group(1))


def _issue_paths(stdout: str) -> set[str]:
    return {line.split(":", 1)[0] for line in stdout.splitlines() if " critical " in line}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project whose every module has one critical issue, in folders at several depths."""
    files = {
        "pkg/__init__.py": "",
        "pkg/users.py": CRITICAL,
        "pkg/sub/deep.py": CRITICAL,
        "src/pkg/inner.py": CRITICAL,
        "src/other.py": CRITICAL,
        "tests/test_users.py": CRITICAL,
        "pkg/tests/test_deep.py": CRITICAL,
        "top.py": CRITICAL,
    }
    return make_project(tmp_path / "proj", files)


def _settings(root: Path, body: str) -> None:
    path = root / "pyproject.toml"
    path.write_text(path.read_text(encoding="utf-8") + body, encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            'include = ["pkg"]\n',
            {"pkg/users.py", "pkg/sub/deep.py", "pkg/tests/test_deep.py", "src/pkg/inner.py"},
            id="bare-folder-name-any-depth",
        ),
        pytest.param('include = ["src/pkg"]\n', {"src/pkg/inner.py"}, id="folder-path"),
        pytest.param('include = ["./src/pkg/"]\n', {"src/pkg/inner.py"}, id="dot-slash-trailing"),
        pytest.param(
            'include = ["pkg/**/*.py"]\n',
            {"pkg/users.py", "pkg/sub/deep.py", "pkg/tests/test_deep.py"},
            id="double-star",
        ),
        pytest.param('include = ["src/*.py"]\n', {"src/other.py"}, id="star-stops-at-slash"),
        pytest.param(
            'exclude = ["tests", "src"]\n',
            {"pkg/users.py", "pkg/sub/deep.py", "top.py"},
            id="exclude-names-at-any-depth",
        ),
        pytest.param(
            'include = ["pkg"]\nexclude = ["pkg/sub", "test_*.py"]\n',
            {"pkg/users.py", "src/pkg/inner.py"},
            id="exclude-wins-over-include",
        ),
    ],
)
def test_check_reads_exactly_the_files_the_patterns_name(
    tree: Path, body: str, expected: set[str]
) -> None:
    _settings(tree, body)

    done = run_dbheal(tree, "check", "--no-cache", "--format", "text")

    assert _issue_paths(done.stdout) == expected, done.stdout
    assert done.stderr == ""


def test_a_pattern_that_matches_no_file_is_one_warning_on_stderr(tree: Path) -> None:
    _settings(tree, 'include = ["pkgx", "pkg"]\nexclude = ["legacy", "tests"]\n')

    done = run_dbheal(tree, "check", "--no-cache", "--format", "json")

    warnings = done.stderr.splitlines()
    assert warnings == [
        "dbheal: warning: include pattern 'pkgx' matches no file",
        "dbheal: warning: exclude pattern 'legacy' matches no file",
    ]
    # Standard output stays one valid JSON document, with the files the patterns do name.
    paths = {issue["path"] for issue in json.loads(done.stdout)}
    assert paths == {"pkg/users.py", "pkg/sub/deep.py", "src/pkg/inner.py"}


def test_include_of_a_missing_folder_no_longer_says_all_is_well_silently(tree: Path) -> None:
    _settings(tree, 'include = ["pkgx"]\n')

    done = run_dbheal(tree, "check", "--no-cache")

    assert done.stderr == "dbheal: warning: include pattern 'pkgx' matches no file\n"
    assert _checked_files(done.stdout) == 0
    assert "matches no file" not in done.stdout  # said once, on stderr


def test_checking_one_folder_does_not_warn_about_patterns_for_others(tree: Path) -> None:
    _settings(tree, 'include = ["pkg", "src/pkg"]\n')

    done = run_dbheal(tree, "check", "--no-cache", "src")

    assert done.stderr == ""
    assert _issue_paths(done.stdout) == {"src/pkg/inner.py"}


def test_an_excluded_folder_is_not_walked(tree: Path) -> None:
    # A FIFO named like a module: the scan would note it as skipped if it looked inside.
    (tree / "vendor").mkdir()
    os.mkfifo(tree / "vendor" / "pipe.py")
    _settings(tree, 'exclude = ["vendor"]\n')

    done = run_dbheal(tree, "check", "--no-cache")

    assert "pipe.py" not in done.stdout + done.stderr
    assert _checked_files(done.stdout) == 8  # all but the pipe


def test_a_link_out_of_the_project_is_not_followed_even_when_included(
    tree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.py").write_text(CRITICAL, encoding="utf-8")
    (tree / "linked").symlink_to(outside, target_is_directory=True)
    _settings(tree, 'include = ["linked", "top.py"]\n')

    done = run_dbheal(tree, "check", "--no-cache")

    assert _issue_paths(done.stdout) == {"top.py"}
    assert "secret.py" not in done.stdout
    assert done.stderr == "dbheal: warning: include pattern 'linked' matches no file\n"


def test_an_empty_pattern_is_a_one_line_error(tree: Path) -> None:
    _settings(tree, 'exclude = [""]\n')

    done = run_dbheal(tree, "check")

    assert done.returncode == 2
    assert done.stderr.startswith("dbheal: error: exclude")
    assert len(done.stderr.splitlines()) == 1

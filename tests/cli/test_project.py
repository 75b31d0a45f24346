"""The project a command reads, as `dbheal check` shows it: the one-line usage errors of
PATHS, --database, --migrations and the settings, and which database it names."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.projects import CLEAN, CRITICAL, SCHEMA, make_project
from tests.conftest import run_dbheal


def dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dbheal check ARGS` in `cwd` and return the finished process."""
    return run_dbheal(cwd, "check", *args)


# --- errors -------------------------------------------------------------------------------------


def _text_as_db(root: Path) -> list[str]:
    (root / "notes.db").write_text("this is not a database\n", encoding="utf-8")
    return ["--db", "notes.db"]


def _missing_db(root: Path) -> list[str]:
    return ["--db", "missing.db"]


def _missing_path(root: Path) -> list[str]:
    return ["app", "no_such_dir"]


def _bad_setting(root: Path) -> list[str]:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'fail-on = "sometimes"\n', encoding="utf-8")
    return []


def _missing_migrations(root: Path) -> list[str]:
    return ["--migrations", "db/migrations"]


def _configured_db_gone(root: Path) -> list[str]:
    (root / "app.db").unlink()
    return []


def _unknown_setting(root: Path) -> list[str]:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "databse = 1\n", encoding="utf-8")
    return []


@pytest.mark.parametrize(
    ("prepare", "words"),
    [
        pytest.param(_missing_db, "missing.db", id="missing-db"),
        pytest.param(_text_as_db, "is not a SQLite database", id="text-as-db"),
        pytest.param(_missing_path, "no_such_dir", id="missing-path"),
        pytest.param(_bad_setting, "fail-on", id="invalid-setting"),
        pytest.param(_unknown_setting, "databse", id="unknown-setting"),
        pytest.param(_missing_migrations, "migrations", id="missing-migrations"),
        pytest.param(_configured_db_gone, "app.db", id="configured-db-missing"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, prepare: Callable[[Path], list[str]], words: str
) -> None:
    root = make_project(tmp_path / "proj", {"app/users.py": CRITICAL})
    args = prepare(root)

    done = dbheal(root, "--no-cache", *args)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dbheal: error: ")
    assert words in lines[0]
    assert "Traceback" not in done.stderr


# --- which database -----------------------------------------------------------------------------


def _unconfigured(root: Path, databases: dict[str, str]) -> Path:
    """A project with no database setting and these database files (name: schema)."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.dbheal]\n')
    for name, schema in databases.items():
        conn = sqlite3.connect(root / name)
        conn.executescript(schema)
        conn.close()
    (root / "app.py").write_text(CLEAN)
    return root


def test_check_says_which_database_it_guessed(tmp_path: Path) -> None:
    root = _unconfigured(tmp_path / "proj", {"app.db": SCHEMA, "app_backup.db": SCHEMA})

    done = dbheal(root, "--no-cache")

    assert done.returncode == 0, done.stderr
    summary = done.stdout.splitlines()[-1]
    assert "checked against app" in summary and "guessed" in summary
    (note,) = done.stderr.splitlines()
    assert "app.db" in note and "app_backup.db" in note
    assert "--database" in note and "[tool.dbheal] database" in note
    chosen = dbheal(root, "--no-cache", "--database", "app.db")
    assert chosen.stderr == ""
    assert chosen.stdout.splitlines()[-1].endswith("checked against app.db.")


def test_sarif_names_the_database(project: Path) -> None:
    done = dbheal(project, "--no-cache", "--format", "sarif")

    assert json.loads(done.stdout)["runs"][0]["properties"]["database"] == "app.db"


def test_an_empty_database_file_is_said_to_be_empty(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"app/users.py": CLEAN})
    (root / "app.db").write_bytes(b"")  # what sqlite3.connect() leaves behind

    done = dbheal(root, "--no-cache")

    assert "app.db is empty (0 bytes): checked as a database with no tables" in done.stderr
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1].endswith("checked against app.db.")
    assert (root / "app.db").stat().st_size == 0

"""`dbheal check` on a repository written by an attacker: it runs nothing but schema definitions.

Each test builds a project in `tmp_path` and runs the real command in a subprocess. A test for
"does not hang" has the subprocess timeout (120 s) as its failure mode; nothing is timed.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_dbheal

FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
QUERY = 'import sqlite3\n\nconn = sqlite3.connect("app.db")\n'
JOIN = 'conn.execute("SELECT users.name, posts.body FROM users JOIN posts ON posts.user_id = users.id")\n'


def dbheal_check(root: Path) -> subprocess.CompletedProcess[str]:
    """Run `dbheal check .` in `root` (the timeout is the failure mode of a hang)."""
    return run_dbheal(root, "check", "--no-cache", ".")


def project(root: Path, files: dict[str, str], settings: str = "") -> Path:
    """Write a project at `root` with a [tool.dbheal] section and `files`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.dbheal]\n{settings}", encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def assert_ran_cleanly(done: subprocess.CompletedProcess[str]) -> None:
    """The run ended with a normal status and no traceback."""
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _targets(tmp_path: Path) -> list[tuple[str, Path]]:
    """(the path a planted statement names, where its file would appear) for each form."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    return [
        ("VACUUM INTO '../vacuumed.db'", tmp_path / "vacuumed.db"),
        (f"VACUUM INTO '{outside / 'vacuumed_abs.db'}'", outside / "vacuumed_abs.db"),
        ("ATTACH DATABASE '../attached.db' AS x", tmp_path / "attached.db"),
        (f"ATTACH DATABASE '{outside / 'attached_abs.db'}' AS x", outside / "attached_abs.db"),
    ]


@pytest.mark.parametrize(
    "form", range(4), ids=["vacuum-rel", "vacuum-abs", "attach-rel", "attach-abs"]
)
def test_a_migration_planting_statements_in_sqlite_master_creates_no_file(
    tmp_path: Path, form: int
) -> None:
    planted, target = _targets(tmp_path)[form]
    migration = (
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);\n"
        "PRAGMA writable_schema = 1;\n"
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)\n"
        f"  VALUES ('table', 'evil', 'evil', 0, {_sql_literal(planted)});\n"
        "PRAGMA writable_schema = 0;\n"
    )
    root = project(tmp_path / "proj", {"migrations/001.sql": migration, "app.py": QUERY + JOIN})
    done = dbheal_check(root)
    assert_ran_cleanly(done)
    assert not target.exists()
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == []
    # The migration's tables are known: the join is not reported.
    assert "no such table" not in done.stdout


def _crafted_database(path: Path, planted: str, *, replace: bool) -> None:
    """Write a database whose sqlite_master holds `planted` (as a row, or after a CREATE)."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT)")
    conn.execute("CREATE TABLE evil (a)")
    conn.execute("PRAGMA writable_schema = 1")
    if replace:
        # SQLite loads a schema row that starts with "create " and ignores what follows it.
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'evil'",
            (f"CREATE TABLE evil (a); {planted}",),
        )
    else:
        conn.execute(
            "INSERT INTO sqlite_master VALUES ('table', 'evil2', 'evil2', 0, ?)", (planted,)
        )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("replace", [False, True], ids=["own-row", "after-create"])
@pytest.mark.parametrize(
    "form", range(4), ids=["vacuum-rel", "vacuum-abs", "attach-rel", "attach-abs"]
)
def test_a_crafted_live_database_creates_no_file(tmp_path: Path, form: int, replace: bool) -> None:
    planted, target = _targets(tmp_path)[form]
    root = project(tmp_path / "proj", {"app.py": QUERY + JOIN}, 'database = "app.db"\n')
    _crafted_database(root / "app.db", planted, replace=replace)
    done = dbheal_check(root)
    assert_ran_cleanly(done)
    assert not target.exists()
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == []
    if done.returncode == 2:
        # SQLite itself refuses a schema row that is not a CREATE: one line says so.
        assert done.stderr.count("\n") == 1 and "corrupt" in done.stderr


def test_a_migration_that_runs_for_ever_is_stopped_and_reported(tmp_path: Path) -> None:
    root = project(
        tmp_path / "proj",
        {
            "migrations/001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
            "migrations/002_numbers.sql": (
                "CREATE TABLE numbers (x INTEGER);\n"
                f"INSERT INTO numbers {FOREVER}\n  SELECT x FROM c;\n"
                "CREATE INDEX idx_numbers_x ON numbers(x);\n"
            ),
            "migrations/003_posts.sql": (
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);\n"
            ),
            "app.py": QUERY + JOIN + 'conn.execute("SELECT x FROM numbers WHERE x > 1")\n',
        },
    )
    done = dbheal_check(root)
    assert_ran_cleanly(done)
    lines = [line for line in done.stdout.splitlines() if "002_numbers.sql:2:" in line]
    assert len(lines) == 1, done.stdout
    assert "stopped after" in lines[0]
    # Every other table and index is known: no query is reported missing anything.
    assert "no such table" not in done.stdout
    assert not [line for line in done.stdout.splitlines() if "numbers is read in full" in line]


@pytest.mark.parametrize("with_database", [False, True], ids=["schema-from-code", "database"])
def test_an_executescript_that_runs_for_ever_is_stopped(
    tmp_path: Path, with_database: bool
) -> None:
    script = (
        'conn.executescript("""\n'
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT);\n"
        f"CREATE TABLE IF NOT EXISTS numbers AS {FOREVER} SELECT x FROM c;\n"
        "CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);\n"
        '""")\n'
    )
    settings = 'database = "app.db"\n' if with_database else ""
    root = project(tmp_path / "proj", {"app.py": QUERY + script + JOIN}, settings)
    if with_database:
        conn = sqlite3.connect(root / "app.db")
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT)")
        conn.close()
    done = dbheal_check(root)
    assert_ran_cleanly(done)
    # The statement would hang the application too: reported on its line, nothing else is.
    found = [line for line in done.stdout.splitlines() if "SQL_SYNTAX" in line]
    assert len(found) == 1, done.stdout
    assert found[0].startswith("app.py:6:") and "does not finish: stopped after" in found[0]
    assert "no such table" not in done.stdout


def test_pragmas_and_attach_in_code_are_not_findings(tmp_path: Path) -> None:
    code = QUERY + (
        'conn.execute("PRAGMA foreign_keys = ON")\n'
        'conn.execute("PRAGMA journal_mode = WAL")\n'
        "conn.execute(\"ATTACH DATABASE 'other.db' AS other\")\n"
        'conn.execute("DETACH DATABASE other")\n'
        'conn.execute("EXPLAIN PRAGMA writable_schema = 1")\n'
        'conn.execute("SELECT name FROM users")\n'
    )
    root = project(tmp_path / "proj", {"app.py": code}, 'database = "app.db"\n')
    conn = sqlite3.connect(root / "app.db")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    done = dbheal_check(root)
    assert_ran_cleanly(done)
    assert done.returncode == 0, done.stdout
    assert "No issues found" in done.stdout
    assert not (root / "other.db").exists()


def test_a_script_of_3000_create_table_is_checked(tmp_path: Path) -> None:
    body = "\n".join(f"CREATE TABLE t{n} (a INTEGER);" for n in range(3000))
    code = QUERY + f'conn.executescript("""\n{body}\nINSERT INTO t2999 (a) VALUES (1);\n""")\n'
    root = project(tmp_path / "proj", {"app.py": code}, 'database = "app.db"\n')
    conn = sqlite3.connect(root / "app.db")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    done = dbheal_check(root)  # took 195 s before the script's schema was re-read lazily
    assert_ran_cleanly(done)
    assert "No issues found" in done.stdout, done.stdout

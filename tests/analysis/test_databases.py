"""Statements checked against the database their connection opens (issue 11, pattern 5).

fixtures/accuracy/databases_*.py are annotated as in test_checker.py (`# expect: TYPE token`).
The project is real: app.db (the main database) and cache.db are SQLite files in its root, a
third database lies outside it, and the `databases` setting is read from a real pyproject.toml
by the `dbheal` command.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import ConfigError, load_config
from tests.analysis.test_checker import assert_fixture_file, database_with
from tests.conftest import run_dbheal, write_app

FIXTURES = Path(__file__).parent / "fixtures" / "accuracy"
CASES = sorted(FIXTURES.glob("databases_*.py"))
MAPPING = {"cache.db": ["self.cache_db", "Archive.conn", "store/*.py"]}


def _project_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    database_with(
        root / "app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
    )
    database_with(root / "cache.db", "CREATE TABLE kv (k TEXT PRIMARY KEY, value TEXT);")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = _project_tree(tmp_path_factory.mktemp("databases") / "app")
    return Project(load_config(root, {"database": str(root / "app.db"), "databases": MAPPING}))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    assert_fixture_file(project, case)


def test_each_form_has_a_fixture() -> None:
    assert {"databases_connections", "databases_configured"} <= {c.stem for c in CASES}


MODULE = "def f(c):\n    c.execute('SELECT valeu FROM kv')\n"


def test_a_module_mapped_to_a_database(project: Project) -> None:
    mapped = project.check_source("store/kv.py", MODULE).issues
    assert [(i.type.value, i.message) for i in mapped] == [
        ("MISSING_COLUMN", "no such column: kv.valeu; did you mean 'value'? (in cache.db)")
    ]
    other = project.check_source("web/views.py", MODULE).issues
    assert [i.type.value for i in other] == ["MISSING_TABLE"]  # the main database has no kv


def test_what_the_code_shows_wins_over_a_module_mapping(project: Project) -> None:
    source = "import sqlite3\n\ndb = sqlite3.connect('app.db')\ndb.execute('SELECT name FROM kv')\n"
    issues = project.check_source("store/main.py", source).issues
    assert [i.type.value for i in issues] == ["MISSING_TABLE"]


OUTSIDE = """import sqlite3

far = sqlite3.connect("../outside.db")
far.execute("SELECT secret FROM vault")
far.execute("SELECT nope FROM vault")
near = sqlite3.connect("link.db")
near.execute("SELECT nope FROM vault")
near.execute("SELECT name FROM users")
absolute = sqlite3.connect("{absolute}")
absolute.execute("SELECT nope FROM vault")
"""


def test_a_database_outside_the_project_is_never_opened(tmp_path: Path) -> None:
    root = _project_tree(tmp_path / "app")
    outside = database_with(tmp_path / "outside.db", "CREATE TABLE vault (secret TEXT);")
    (root / "link.db").symlink_to(outside)
    project = Project(load_config(root, {"database": str(root / "app.db")}))
    source = OUTSIDE.format(absolute=outside.as_posix())
    result = project.check_source("app.py", source)
    # Neither checked against the outside file (it would say "no such column: nope") nor
    # against the main database (it would say "no such table: vault").
    assert result.issues == () and result.notes == ()


def test_a_database_file_that_is_not_sqlite_gives_syntax_checks_only(tmp_path: Path) -> None:
    root = _project_tree(tmp_path / "app")
    (root / "cache.db").write_bytes(b"not a database at all, just bytes" * 10)
    os.mkfifo(root / "pipe.db")
    project = Project(load_config(root, {"database": str(root / "app.db")}))
    source = (
        "import sqlite3\n\nc = sqlite3.connect('cache.db')\nc.execute('SELECT v FROM kv')\n"
        "c.execute('SELEC v FROM kv')\np = sqlite3.connect('pipe.db')\n"
        "p.execute('SELECT v FROM kv')\n"
    )
    result = project.check_source("app.py", source)  # a FIFO must not hang it
    assert [i.type.value for i in result.issues] == ["SQL_SYNTAX"]


APP = """import sqlite3

cache = sqlite3.connect("cache.db")


class Repo:
    def __init__(self, make):
        self.cache_db = make()

    def get(self, key):
        return self.cache_db.execute("SELECT valeu FROM kv WHERE k = ?", (key,))


def hit(key):
    return cache.execute("SELECT value FROM kv WHERE k = ?", (key,))
"""


def _app(root: Path, setting: str) -> Path:
    return write_app(_project_tree(root), APP, setting)


def test_the_databases_table_from_pyproject(tmp_path: Path) -> None:
    before = run_dbheal(_app(tmp_path / "without", ""), "check")
    assert before.returncode == 1
    assert before.stdout.count("MISSING_TABLE") == 1 and "app.py:11:" in before.stdout
    setting = '[tool.dbheal.databases]\n"cache.db" = ["self.cache_db"]\n'
    after = run_dbheal(_app(tmp_path / "with", setting), "check")
    assert after.returncode == 1, after.stderr
    assert "MISSING_TABLE" not in after.stdout
    assert "app.py:11:" in after.stdout and "did you mean 'value'" in after.stdout


def test_a_changed_second_database_is_not_answered_from_the_cache(tmp_path: Path) -> None:
    root = _app(tmp_path / "app", "")
    first = run_dbheal(root, "check", "app.py")
    assert "app.py:15:" not in first.stdout  # hit() reads cache.db: clean
    conn = sqlite3.connect(root / "cache.db")
    conn.executescript("DROP TABLE kv; CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);")
    conn.close()
    second = run_dbheal(root, "check", "app.py")
    assert "app.py:15:" in second.stdout and "MISSING_COLUMN" in second.stdout


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ('[tool.dbheal.databases]\n"cache.db" = 3\n', "databases"),
        ('[tool.dbheal.databases]\n"cache.db" = ["not a name!"]\n', "not a name!"),
        ('[tool.dbheal.databases]\n"../outside.db" = ["self.db"]\n', "outside the project"),
        ("[tool.dbheal]\ndatabases = 1\n", "databases"),
    ],
    ids=["not-a-list", "bad-target", "outside", "not-a-table"],
)
def test_a_bad_databases_setting_is_one_clear_line(
    tmp_path: Path, setting: str, words: str
) -> None:
    root = _app(tmp_path / "app", "")
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    if setting.startswith("[tool.dbheal]\n"):
        text = text.replace('database = "app.db"\n', 'database = "app.db"\n' + setting[14:])
    else:
        text += setting
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    done = run_dbheal(root, "check")
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    with pytest.raises(ConfigError):
        load_config(root)


HEAL_APP = """import sqlite3

cache = sqlite3.connect("cache.db")


def by_value(v):
    return cache.execute("SELECT k FROM kv WHERE v = ?", (v,)).fetchall()
"""


def test_heal_never_changes_the_main_database_for_another_ones_finding(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    # Both files have a table kv: a fix planned for cache.db's finding must not land in app.db.
    for name in ("app.db", "cache.db"):
        database_with(root / name, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER);")
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n', encoding="utf-8")
    (root / "app.py").write_text(HEAL_APP, encoding="utf-8")
    found = run_dbheal(root, "check")
    assert "MISSING_INDEX" in found.stdout and "(in cache.db)" in found.stdout, found.stdout
    run_dbheal(root, "heal", "--yes")
    for name in ("app.db", "cache.db"):
        conn = sqlite3.connect(root / name)
        indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        conn.close()
        assert [n for (n,) in indexes if not n.startswith("sqlite_")] == [], name

"""Where discovery finds a project's database and migrations when no setting names them
(dbheal_lsp/discovery.py), and what `load_config` records of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.config import load_config
from dbheal_lsp.discovery import database_candidates, discover_database
from tests.test_config import make_db, make_migrations


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repository folder (its `.git` stops the search for the root)."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("database", "migrations"),
    [
        ("app.db", "migrations"),
        ("db/shop.sqlite", "db/migrations"),
        ("data/store.sqlite3", "sql/migrations"),
        ("instance/flask.db", "migrations/sql"),
    ],
)
def test_database_and_migrations_are_discovered(repo: Path, database: str, migrations: str) -> None:
    make_db(repo / database)
    make_migrations(repo / migrations)

    config = load_config(repo)

    assert config.database == repo.resolve() / database
    assert config.migrations == repo.resolve() / migrations
    assert config.sources["database"] == "discovered"
    assert config.sources["migrations"] == "discovered"


def test_a_migrations_folder_without_sql_files_is_not_discovered(repo: Path) -> None:
    (repo / "migrations").mkdir()
    (repo / "migrations" / "env.py").write_text("# alembic\n")
    (repo / "notes.txt").write_text("not a database\n")

    config = load_config(repo)

    assert config.migrations is None
    assert config.database is None


def test_several_candidates_come_in_discovery_order_and_the_first_is_the_guess(
    repo: Path,
) -> None:
    make_db(repo / "instance" / "flask.db")
    make_db(repo / "data" / "store.sqlite3")
    make_db(repo / "b.sqlite")
    make_db(repo / "a.db")
    (repo / "db").mkdir()
    (repo / "db" / "notes.txt").write_text("not a database\n")
    (repo / "db" / "folder.db").mkdir()  # a folder named like a database is not one

    found = database_candidates(repo)

    assert [p.relative_to(repo).as_posix() for p in found] == [
        "a.db",
        "b.sqlite",
        "data/store.sqlite3",
        "instance/flask.db",
    ]
    assert discover_database(repo) == repo / "a.db"

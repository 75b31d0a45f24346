"""The file standing for a PostgreSQL server in the project: named by host and database, holding
the URL without its password, and the project's own URL (password included) connected to."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.databases.postgres.fix_target import is_server_file, server_file, server_url


def test_the_file_holds_the_url_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://app:s3cret@db.internal:5432/shop"
    path = server_file(tmp_path, url)
    assert path == tmp_path / ".dbheal" / "postgres" / "db.internal_5432_shop.pgserver"
    assert path.read_text() == "postgresql://app@db.internal:5432/shop\n"
    assert is_server_file(path)
    assert not is_server_file(tmp_path / "app.db")


def test_the_projects_url_is_connected_to_when_it_names_the_same_server(tmp_path: Path) -> None:
    url = "postgresql://app:s3cret@db.internal:5432/shop"
    (tmp_path / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{url}"\n')
    path = server_file(tmp_path, url)
    assert server_url(path) == url  # the password comes from the project, never the file
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbheal]\ndatabase = "postgresql://app:pw@other/shop"\n'
    )
    # Another server configured now: the stored URL (libpq finds the password in ~/.pgpass).
    assert server_url(path) == "postgresql://app@db.internal:5432/shop"


def test_a_socket_url_gets_a_file_name_of_its_folder_and_port(tmp_path: Path) -> None:
    path = server_file(tmp_path, "postgresql://postgres@/app?host=/tmp/pg&port=5433")
    assert path.name == "tmp_pg_5433_app.pgserver"

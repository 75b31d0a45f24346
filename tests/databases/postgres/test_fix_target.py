"""The file standing for a PostgreSQL server in the project: named by host and database, holding
the URL without its password, and the project's own URL (password included) connected to."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    # Another server configured now: the stored one is not connected to (a stranger's
    # .dbheal/ could name any host, and libpq would send it the user's password).
    with pytest.raises(
        ValueError,
        match=r"postgresql://app@db.internal:5432/shop is not this project's database \(postgresql://app@other/shop\)",
    ):
        server_url(path)


def test_a_planted_server_file_is_neither_written_through_nor_believed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    project = tmp_path / "project"
    folder = project / ".dbheal" / "postgres"
    folder.mkdir(parents=True)
    url = "postgresql://app@db.internal:5432/shop"
    planted = folder / "db.internal_5432_shop.pgserver"
    planted.symlink_to(outside)
    path = server_file(project, url)
    assert outside.read_text() == "keep me\n"  # the link was replaced, not written through
    assert not path.is_symlink() and path.read_text() == url + "\n"
    # A file naming the attacker's host, with no project setting: nothing is connected to.
    (folder / "evil_5432_x.pgserver").write_text("postgresql://app@evil.example/x\n")
    with pytest.raises(ValueError, match="is not this project's database"):
        server_url(folder / "evil_5432_x.pgserver")


def test_a_socket_url_gets_a_file_name_of_its_folder_and_port(tmp_path: Path) -> None:
    path = server_file(tmp_path, "postgresql://postgres@/app?host=/tmp/pg&port=5433")
    assert path.name == "tmp_pg_5433_app.pgserver"

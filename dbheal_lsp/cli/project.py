"""The project a command reads: its arguments (PATHS, --database, --migrations), loading it,
and how the output names its database."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.cli import UsageError
from dbheal_lsp.cli.output import shown_path

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """Add PATHS, --db and --migrations: what every command that reads a project takes."""
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    add_database_argument(parser)
    parser.add_argument("--migrations", type=Path, help="the folder of migration *.sql files")


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """Add --database (and its older spelling --db): the SQLite file or PostgreSQL URL to use."""
    parser.add_argument(
        "--database",
        "--db",
        dest="db",
        metavar="FILE_OR_URL",
        help="the SQLite database file, or a postgresql:// URL (its password is never shown)",
    )


def load_project_from(args: argparse.Namespace, *, writes: bool = False) -> Project:
    """Return the Project that PATHS, --database and --migrations name, or raise UsageError.

    With `writes` (the command may change the database), a database only guessed among
    several candidates is refused: the user names it.
    """
    from dbheal_lsp.analysis.project import load_project
    from dbheal_lsp.config import ConfigError, find_root

    paths: list[Path] = getattr(args, "paths", None) or [Path.cwd()]
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    from dbheal_lsp.database_url import GIVEN_URL, is_postgres_url

    db = getattr(args, "db", None)
    migrations = getattr(args, "migrations", None)
    if db and is_postgres_url(db):
        database: str | None = str(db)  # a server: nothing on disk to find
        # The fix engine finds the server again from the file standing for it; it connects
        # only to a server the project names, this command's included (fix_target.py).
        os.environ[GIVEN_URL] = str(db)
    elif db:
        if not Path(db).exists():
            raise UsageError(f"database file not found: {db}")
        database = str(Path(db).resolve())
    else:
        database = None
    overrides = {
        "database": database,
        "migrations": str(migrations.resolve()) if migrations else None,
        "fail-on": getattr(args, "fail_on", None),
    }
    try:
        project = load_project(find_root(paths[0]), overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if writes and len(guessed_among(project)) > 1:
        raise UsageError(
            f"no database configured and {_candidates_text(project)}: dbheal will not guess "
            "which one to change; choose with --database FILE or [tool.dbheal] database"
        )
    return project


def guessed_among(project: Project) -> tuple[Path, ...]:
    """Return the candidates the database was guessed among (empty when it was named)."""
    from dbheal_lsp.discovery import database_candidates

    config = project.config
    if config.database is None or config.sources.get("database") != "discovered":
        return ()
    return database_candidates(config.root)


def _candidates_text(project: Project) -> str:
    found = guessed_among(project)
    return f"{len(found)} found ({', '.join(shown_path(p) for p in found)})"


def database_label(project: Project) -> str:
    """Return the database a command uses, as its output names it (said when guessed)."""
    database = project.config.database
    if project.config.database_url is not None:
        from dbheal_lsp.database_url import redacted

        label = redacted(project.config.database_url)
        if getattr(project.database, "offline", False):
            label += " (not reachable: pglast and the migrations judged)"
        return label
    if database is None:
        return "no database (the migrations only)"
    label = shown_path(database)
    if len(guessed_among(project)) > 1:
        label += " (guessed)"
    return label


def database_notes(project: Project) -> list[str]:
    """Return what the user should know about the database before trusting the output."""
    notes: list[str] = []
    database = project.config.database
    if database is not None and len(guessed_among(project)) > 1:
        notes.append(
            f"no database configured and {_candidates_text(project)}: checked against "
            f"{shown_path(database)}; choose with --database FILE or [tool.dbheal] database"
        )
    if database is not None and empty_file(database):
        notes.append(
            f"{shown_path(database)} is empty (0 bytes): checked as a database with no tables"
        )
    return notes


def empty_file(path: Path) -> bool:
    """Return whether `path` is a 0-byte file (what a bare sqlite3.connect() leaves behind)."""
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False

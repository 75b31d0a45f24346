"""Where a project's SQLite database and migrations folder are found when no setting names them.

Discovery looks in the usual places only (the root, db/, data/, instance/ for a database; a few
conventional folders for migrations). What it finds is the repository's word, not the user's,
so the settings (config.py) still require it to lie inside the project.
"""

from __future__ import annotations

from pathlib import Path

DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
MIGRATION_DIRS = ("migrations", "db/migrations", "migrations/sql", "sql/migrations")


def database_candidates(root: Path) -> tuple[Path, ...]:
    """Return every file that looks like the project's SQLite database (*.db, *.sqlite,
    *.sqlite3 in the root, db/, data/ and instance/), in the order discovery prefers them."""
    found: list[Path] = []
    for folder in (root, root / "db", root / "data", root / "instance"):
        if not folder.is_dir():
            continue
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        found.extend(p for p in entries if p.suffix.lower() in DATABASE_SUFFIXES and p.is_file())
    return tuple(found)


def discover_database(root: Path) -> Path | None:
    """Return the SQLite file of the project: the one candidate, or a guess among several.

    The guess is the first candidate; with more than one, front doors that write must not use
    it (see `database_candidates`): the project has to name its database.
    """
    found = database_candidates(root)
    return found[0] if found else None


def discover_migrations(root: Path) -> Path | None:
    """Return the project's migrations folder (migrations/, db/migrations/, ...) if any."""
    for name in MIGRATION_DIRS:
        folder = root / name
        if folder.is_dir() and any(folder.glob("*.sql")):
            return folder
    return None

"""Build beets' database by running its own schema code: `python schema.py CHECKOUT OUT_DB`.

`beets.library.Library(path)` is what `beet` opens: dbcore's Database creates each model's table
from the model's fields (`_make_table`), the flexible-attribute tables, and runs the library's
data migrations. Nothing is stubbed.

beets imports its runtime dependencies (confuse, mediafile, unidecode, jellyfish, ...) at import
time. When they are not importable by the Python running this script, it re-runs itself with
the Python of a separate virtual environment, `$DBHEAL_BEETS_VENV` (default
/tmp/dbheal-beets-venv), creating it with pip first when it does not exist. Nothing is ever
installed into dbheal's own environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

VENV = Path(os.environ.get("DBHEAL_BEETS_VENV", Path(tempfile.gettempdir()) / "dbheal-beets-venv"))
# beets' [project] dependencies at the pinned commit (pyproject.toml), without the Windows-only
# colorama.
DEPENDENCIES = [
    "confuse>=2.2.0",
    "jellyfish",
    "lap>=0.5.12",
    "mediafile>=0.17.0",
    "numpy>=2.0.2",
    "packaging>=24.0",
    "platformdirs>=3.5.0",
    "pyyaml",
    "requests>=2.32.5",
    "requests-ratelimiter>=0.7.0",
    "typing_extensions",
    "unidecode>=1.3.6",
]


def _has_dependencies() -> bool:
    try:
        import confuse  # type: ignore[import-not-found]  # noqa: F401
        import mediafile  # type: ignore[import-not-found]  # noqa: F401
        import unidecode  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def _venv_python() -> str:
    """Return the Python of the separate environment, creating it when missing."""
    python = VENV / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *DEPENDENCIES], check=True)
    return str(python)


def main(checkout: Path, out_db: Path) -> None:
    """Create `out_db` as `beet` would on first start."""
    sys.path.insert(0, str(checkout))
    # beets reads its configuration folder; an empty one keeps the user's config out.
    os.environ["BEETSDIR"] = tempfile.mkdtemp(prefix="dbheal-beetsdir-")
    import beets  # type: ignore[import-not-found]
    from beets.library import Library  # type: ignore[import-not-found]

    # No backup copies next to the database before the migrations run.
    beets.config["create_backup_before_migrations"] = False
    library = Library(str(out_db))
    library._connection().commit()
    library._close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: schema.py CHECKOUT OUT_DB")
    if not _has_dependencies() and Path(sys.executable).parent != VENV / "bin":
        sys.exit(subprocess.run([_venv_python(), __file__, *sys.argv[1:]]).returncode)
    main(Path(sys.argv[1]), Path(sys.argv[2]))

"""The back end's errors are the seam's: `except DatabaseError` catches them, no driver imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.postgres import DRIVER_ERRORS, PostgresError


def test_postgres_errors_are_database_errors() -> None:
    assert PostgresError in DRIVER_ERRORS
    assert all(error in DatabaseError for error in DRIVER_ERRORS)


def test_importing_the_seam_does_not_import_psycopg() -> None:
    root = Path(__file__).resolve().parents[3]
    code = "import sys, dbheal_lsp.databases; print('psycopg' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"

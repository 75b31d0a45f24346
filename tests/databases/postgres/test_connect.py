"""Connecting: psycopg's absence and an unreachable server are one line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.postgres.connect import NEEDS_PSYCOPG, connect


def test_connects_without_leaving_prepared_statements(pg_url: str) -> None:
    conn = connect(pg_url)
    try:
        for _ in range(8):  # psycopg would prepare a query run 5 times: not here
            conn.execute("SELECT 1").fetchone()
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    finally:
        conn.close()


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as caught:
        connect(f"postgresql://u:topsecret@/db?host={tmp_path}&port=1")
    assert "topsecret" not in caught.value.message
    assert "\n" not in caught.value.message


def test_without_psycopg_one_clear_line(tmp_path: Path) -> None:
    # A Python where `import psycopg` fails: the message says what to install.
    blocker = tmp_path / "psycopg.py"
    blocker.write_text("raise ImportError('no psycopg here')\n")
    code = (
        "from dbheal_lsp.databases.postgres.connect import connect\n"
        "from dbheal_lsp.databases.database import SchemaError\n"
        "try:\n    connect('postgresql://u@/db')\n"
        "except SchemaError as exc:\n    print(exc.message)\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == NEEDS_PSYCOPG
    assert NEEDS_PSYCOPG == "PostgreSQL needs psycopg: pip install 'dbheal-lsp[postgres]'"

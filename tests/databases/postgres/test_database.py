"""`PostgresDatabase` through the seam: chosen by the URL, the live schema, the judge, and a
server that cannot be reached said in one line without the password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.config import load_config
from dbheal_lsp.databases import open_database
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.postgres.database import PostgresDatabase


def _project(tmp_path: Path, url: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{url}"\n')
    return tmp_path


def test_the_url_chooses_postgres(pg_url: str, pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
    database = open_database(load_config(_project(tmp_path, pg_url)))
    assert isinstance(database, PostgresDatabase)
    try:
        schema = database.live_schema()
        assert schema.tables["t"].column_names == ("id", "name")
        assert database.live_key() == schema.version
        judge = database.judge(schema)
        try:
            assert judge.verdict("SELECT name FROM t WHERE id = ?").kind == "ok"
            assert judge.verdict("SELECT nme FROM t").kind == "no_column"
        finally:
            judge.close()
    finally:
        database.close()


def test_unreachable_server_is_one_line_without_password(tmp_path: Path) -> None:
    url = f"postgresql://app:hunter2@/db?host={tmp_path}&port=1"
    database = PostgresDatabase(url)
    with pytest.raises(SchemaError) as caught:
        database.live_schema()
    message = caught.value.message
    assert "\n" not in message and "hunter2" not in message
    assert message.startswith("cannot connect to postgresql://app@/db?host=")
    assert database.live_key() is None


def test_integrity_and_the_write_lock_are_read_from_the_server(pg_url: str) -> None:
    database = PostgresDatabase(pg_url)
    try:
        assert database.write_lock_free(wait=0.1)
        assert database.integrity(full=False, busy_timeout=0.1, max_rows=1).lines == ("ok",)
    finally:
        database.close()


APP = """import psycopg


def load(conn, user_id):
    note = "ünïcødé ✓"
    conn.execute("SELECT naem FROM users WHERE id = %s", (user_id,))
    conn.execute("SELECT * FROM nope WHERE id = %s", (user_id,))
    conn.execute("SELECT id FROM users WHERE email = %s", (note,))
    conn.execute("SELECT id::text FROM users WHERE name ILIKE %s", (note,))
    conn.execute(
        "INSERT INTO users (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (user_id, note),
    )
    conn.execute("SELECT 'é€' AS x, id FORM users")
    conn.execute("SELECT 'ünï' AS x FROM users WHERE id = 1 AND name = 7")
"""


def _check(project: Path, output_format: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[3]
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", "check", "--no-cache", "--format", output_format, "."],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(root), "DBHEAL_CACHE_DIR": str(project / ".c")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_check_against_the_server(pg_url: str, pg_conn: Any, tmp_path: Path) -> None:
    pg_conn.execute("CREATE TABLE users (id integer PRIMARY KEY, name text, email text)")
    pg_conn.execute("ALTER ROLE CURRENT_USER PASSWORD 'pa55word-xyz'")
    # The password is in the URL (the cluster trusts local users, so it is not needed).
    url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:pa55word-xyz@")
    url = url.replace(f"postgresql://{os.environ.get('USER', '')}@", "postgresql://x:pa55word-xyz@")
    project = _project(tmp_path, url)
    (project / "app.py").write_text(APP, encoding="utf-8")
    text = _check(project, "text")
    lines = text.stdout.splitlines()
    found = {(line.split()[2], line.split(":")[1]) for line in lines if line.startswith("app.py:")}
    assert found == {
        ("MISSING_COLUMN", "6"),
        ("MISSING_TABLE", "7"),
        ("SELECT_STAR", "7"),
        ("MISSING_INDEX", "8"),
        ("SQL_SYNTAX", "14"),
        ("TYPE_MISMATCH", "15"),
    }, text.stdout
    # Each issue at its token: the unknown column, the table, the filtered column, FORM's word.
    columns = {line.split()[2]: int(line.split(":")[2]) for line in lines if "app.py:" in line}
    assert APP.splitlines()[5][columns["MISSING_COLUMN"] - 1 :].startswith("naem")
    assert APP.splitlines()[6][columns["MISSING_TABLE"] - 1 :].startswith("nope")
    assert APP.splitlines()[7][columns["MISSING_INDEX"] - 1 :].startswith("email")
    assert APP.splitlines()[13][columns["SQL_SYNTAX"] - 1 :].startswith("users")
    assert APP.splitlines()[14][columns["TYPE_MISMATCH"] - 1 :].startswith("= 7")
    assert "checked against postgresql://" in text.stdout
    # The server judged it, and the message names the server, not SQLite.
    syntax = next(line for line in lines if "SQL_SYNTAX" in line)
    assert "PostgreSQL rejects this statement: syntax error at or near" in syntax
    for output_format in ("text", "json", "sarif"):
        result = _check(project, output_format)
        assert result.returncode == 1, result.stderr
        assert "pa55word" not in result.stdout + result.stderr
        assert "MISSING_TABLE" in result.stdout


def test_cli_check_with_no_server_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path, f"postgresql://app:secret-pw@/db?host={tmp_path}&port=1")
    (project / "app.py").write_text(APP, encoding="utf-8")
    result = _check(project, "text")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "secret-pw" not in result.stdout + result.stderr
    assert "cannot connect to postgresql://app@/db" in result.stdout + result.stderr

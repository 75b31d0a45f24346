"""A fix's backup on the server: the changed table copied into dbheal_backup, a manifest with
its types and row counts and no password; the fingerprint any committed write changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dbheal_lsp.databases.postgres.backup import (
    describe_losses,
    fingerprint,
    manifest_summary,
    take_backup,
)


def test_the_changed_table_is_copied_and_described(
    pg_url: str, pg_conn: Any, tmp_path: Path
) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
    pg_conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    copy = tmp_path / "fix-1" / "database" / "server.pgserver"
    url = pg_url.replace("@", ":pw@", 1)
    take_backup(pg_conn, url, "public", copy, ["t", "created_by_the_fix"])
    manifest = json.loads(copy.read_text())
    assert manifest["copies"] == {"t": "dbheal_backup.fix-1_t"}
    assert ":pw@" not in copy.read_text()
    copied = pg_conn.execute('SELECT count(*) FROM dbheal_backup."fix-1_t"').fetchone()
    assert copied[0] == 2
    assert manifest_summary(copy) == {"t": ("id integer, name text", 2)}


def test_the_fingerprint_changes_with_a_write(pg_conn: Any) -> None:
    pg_conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
    pg_conn.execute("INSERT INTO t VALUES (1, 'a')")
    first = fingerprint(pg_conn, "public")
    assert fingerprint(pg_conn, "public") == first
    pg_conn.execute("UPDATE t SET name = 'b'")  # same count: the row's version changes
    assert fingerprint(pg_conn, "public") != first


def test_losses_name_the_rows_written_since() -> None:
    before = {"t": ("id integer", 2)}
    now = {"t": ("id integer", 5), "u": ("id integer", 1)}
    said = describe_losses(before, now)
    assert said == (
        "restoring would drop 3 row(s) in t written since the fix, table u (1 row(s)), which "
        "the backup does not have"
    )

"""A fix's backup on a PostgreSQL server, and what tells whether the server changed since.

Before a fix, each table it changes is copied on the server into the `dbheal_backup` schema
(`CREATE TABLE dbheal_backup."<fix>_<table>" AS TABLE ...`: the rows and column types, in one
statement, no client binaries or password needed), and a manifest is written in the fix's
backup folder under the server's file name (`fix_target.py`): the server's URL without its
password, the schema read, each table's columns with their types and row count, and where each
copy is. The rollback reads the old column types from it, and compares row counts with it.

The fingerprint of the server (what a rollback compares with the one stored after the fix) is
a digest of its schema, and of each table's row count and newest row version (`max(xmin)`):
any committed insert, update or delete of a row changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbheal_lsp.backups import BackupError
from dbheal_lsp.database_url import redacted
from dbheal_lsp.databases.postgres.type_change import quote
from dbheal_lsp.files import MB, FileRefused, atomic_write, ensure_dir, read_regular_file

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "BACKUP_SCHEMA",
    "FINGERPRINT_FILE",
    "describe_losses",
    "drop_copies",
    "fingerprint",
    "read_manifest",
    "summary",
    "take_backup",
]

BACKUP_SCHEMA = "dbheal_backup"
#: The file in a fix's backup folder that holds the server's fingerprint after the fix.
FINGERPRINT_FILE = "postgres-fingerprint"
_TABLES_SQL = """
SELECT c.relname, c.relkind,
       string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                  ORDER BY a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')
GROUP BY c.relname, c.relkind ORDER BY c.relname
"""

_MAX_MANIFEST = 16 * MB  # columns and row counts of a schema: never this large


def summary(conn: psycopg.Connection[Any], schema: str) -> dict[str, tuple[str, int]]:
    """Each table's and view's columns with their types, and its row count (-1: a view)."""
    found: dict[str, tuple[str, int]] = {}
    for name, kind, columns in conn.execute(_TABLES_SQL, (schema,)).fetchall():
        rows = -1
        if kind in ("r", "p"):
            row = conn.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(name)}").fetchone()
            rows = int(row[0]) if row else 0
        found[str(name)] = (str(columns or ""), rows)
    return found


def fingerprint(conn: psycopg.Connection[Any], schema: str) -> str:
    """A digest that any committed schema change or row write in `schema` changes."""
    digest = hashlib.sha256()
    for name, kind, columns in conn.execute(_TABLES_SQL, (schema,)).fetchall():
        digest.update(f"{name}\0{kind}\0{columns}\0".encode())
        if kind in ("r", "p"):
            row = conn.execute(
                f"SELECT count(*), max(xmin::text::bigint) FROM {quote(schema)}.{quote(name)}"
            ).fetchone()
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _copy_name(fix: str, table: str) -> str:
    """The copy's name in the backup schema: at most 63 bytes, as PostgreSQL allows."""
    name = f"{fix}_{table}"
    if len(name.encode()) <= 63:
        return name
    return f"{name[:50]}_{hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]}"


def take_backup(
    conn: psycopg.Connection[Any],
    url: str,
    schema: str,
    copy: Path,
    tables: Sequence[str],
) -> Path:
    """Copy `tables` into the backup schema and write the manifest at `copy`; return it."""
    import psycopg

    fix = copy.parent.parent.name or "fix"
    copies: dict[str, str] = {}
    try:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {BACKUP_SCHEMA}")
        for table in dict.fromkeys(tables):
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f"{quote(schema)}.{quote(table)}",)
            ).fetchone()
            if not exists or exists[0] is None:
                continue  # a table the fix creates: nothing to copy
            name = _copy_name(fix, table)
            conn.execute(f"DROP TABLE IF EXISTS {BACKUP_SCHEMA}.{quote(name)}")
            conn.execute(
                f"CREATE TABLE {BACKUP_SCHEMA}.{quote(name)} AS TABLE {quote(schema)}.{quote(table)}"
            )
            copies[table] = f"{BACKUP_SCHEMA}.{name}"
        manifest = {
            "database": redacted(url),
            "schema": schema,
            "tables": {k: list(v) for k, v in summary(conn, schema).items()},
            "copies": copies,
        }
    except psycopg.Error as exc:
        raise BackupError(f"cannot back up {', '.join(tables) or 'the schema'}: {exc}") from None
    ensure_dir(copy.parent)
    # Replaced, never written through a link; read back only as a regular file (read_manifest).
    atomic_write(copy, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"), mode=0o644)
    return copy


def drop_copies(conn: psycopg.Connection[Any], copies: Sequence[str]) -> list[str]:
    """Drop the table copies named `schema.name` (a manifest's), only those in the backup
    schema (a manifest is a file in the project: it never names another table to drop); return
    the copies dropped."""
    dropped = []
    prefix = f"{BACKUP_SCHEMA}."
    for copy in copies:
        if not copy.startswith(prefix) or not copy.removeprefix(prefix):
            continue
        conn.execute(f"DROP TABLE IF EXISTS {BACKUP_SCHEMA}.{quote(copy.removeprefix(prefix))}")
        dropped.append(copy)
    return dropped


def read_manifest(copy: Path) -> dict[str, Any]:
    """The manifest `take_backup` wrote (ValueError when it cannot be read)."""
    try:
        data = json.loads(read_regular_file(copy, max_bytes=_MAX_MANIFEST).decode("utf-8"))
    except (OSError, ValueError, FileRefused) as exc:
        raise ValueError(f"cannot read the backup {copy}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        raise ValueError(f"{copy} is not a PostgreSQL backup of dbheal's")
    return data


def manifest_summary(copy: Path) -> dict[str, tuple[str, int]]:
    """The summary (`summary`) stored in the backup `copy`."""
    tables = read_manifest(copy)["tables"]
    return {str(k): (str(v[0]), int(v[1])) for k, v in tables.items()}


def describe_losses(
    before: dict[str, tuple[str, int]], now: dict[str, tuple[str, int]], *, done: bool = False
) -> str:
    """What putting the backup's tables back would drop: the rows each table has gained since."""
    gained = sorted(
        ((t, n - before[t][1]) for t, (_, n) in now.items() if t in before and n > before[t][1]),
        key=lambda x: -x[1],
    )
    created = [t for t, (_, n) in now.items() if t not in before and n >= 0]
    parts = [f"{n} row(s) in {t} written since the fix" for t, n in gained]
    parts += [f"table {t} ({now[t][1]} row(s)), which the backup does not have" for t in created]
    verb = "dropped" if done else "would drop"
    if not parts:
        return f"restoring {verb} no row counted since the fix (rows may have changed)"
    return f"restoring {verb} " + ", ".join(parts)

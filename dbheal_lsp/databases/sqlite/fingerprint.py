"""Has a database changed since a fix, and which rows would a restore of its backup drop?

A whole-file restore of a fix's database backup is only safe while nothing has been written to
the database since the fix committed. Right after a fix commits, the executor's caller stores a
fingerprint of the database (`remember_after_fix`): the sha256 of the file's bytes (and of its
-wal file, if one holds frames) after a checkpoint. Any later commit changes those bytes, so an
equal fingerprint at rollback time means nothing was written since. A checkpoint or a VACUUM
that changes the bytes but no row gives a false "changed", which only ever makes dbheal refuse
a restore, never lose a row. A fix recorded without a fingerprint counts as changed.

`database_summary` is what a rollback's check compares a restored database with its backup by.

When the database did change, `rows_lost` compares the backup with the database row by row and
says what a restore would drop, per table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AFTER_FIX_NAME",
    "TableLoss",
    "database_fingerprint",
    "database_summary",
    "describe_loss",
    "remember_after_fix",
    "rows_lost",
    "stored_fingerprint",
]

#: The file in a fix's backup folder that holds the database's fingerprint after the fix.
AFTER_FIX_NAME = "after-fix.json"
_CHUNK = 1 << 20


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hash_file(path: Path, update: Callable[[bytes], object]) -> None:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                update(chunk)
    except FileNotFoundError:
        update(b"<absent>")


def database_fingerprint(path: Path, *, timeout: float = 5.0) -> str:
    """Return a fingerprint of the database file at `path` that any committed write changes.

    A checkpoint first moves WAL frames into the file, so the same content gives the same bytes
    whichever connection last wrote; the bytes are read while holding SQLite's write lock, so
    no commit lands halfway through. Raises sqlite3.Error if the database cannot be opened or
    stays locked longer than `timeout` seconds."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)
    conn.isolation_level = None
    try:
        # A reader can keep the checkpoint from finishing: then the -wal file is hashed too.
        # It is not waited for (busy_timeout 0): a reader the app keeps open must not stall
        # every fix for the whole lock timeout.
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            digest = hashlib.sha256()
            _hash_file(Path(path), digest.update)
            wal = Path(f"{path}-wal")
            if wal.is_file() and wal.stat().st_size > 0:
                digest.update(b"\0wal\0")
                _hash_file(wal, digest.update)
            return digest.hexdigest()
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def remember_after_fix(database: Path, backup_folder: Path, *, timeout: float = 5.0) -> None:
    """Store the fingerprint of `database` in the fix's `backup_folder`, right after the fix
    committed. Failing to read it is not an error: without a fingerprint a restore of this
    fix's backup is refused unless asked for explicitly, which is the safe side."""
    try:
        fingerprint = database_fingerprint(database, timeout=timeout)
    except (sqlite3.Error, OSError):
        return
    target = Path(backup_folder) / AFTER_FIX_NAME
    data = json.dumps({"sha256": fingerprint}).encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    # O_EXCL: never write through a file (or link) someone else put there.
    with contextlib.suppress(OSError):
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def stored_fingerprint(backup_folder: Path) -> str | None:
    """Return the fingerprint stored after the fix whose backup is `backup_folder`, or None
    (a fix recorded before fingerprints existed, or one whose fingerprint could not be read)."""
    target = Path(backup_folder) / AFTER_FIX_NAME
    if target.is_symlink() or not target.is_file():
        return None
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("sha256") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class TableLoss:
    """What restoring a backup would undo in one table of the database."""

    table: str
    added: int  # rows that are not in the backup: written since
    changed: int  # rows in both whose values differ: changed since
    created: bool = False  # the table is not in the backup at all

    @property
    def any(self) -> bool:
        """Return whether the restore would lose anything in this table."""
        return bool(self.added or self.changed or self.created)


def _tables(conn: sqlite3.Connection, schema: str) -> dict[str, tuple[str, bool]]:
    rows = conn.execute(
        f"SELECT name, coalesce(sql, '') FROM {schema}.sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    return {
        str(name).lower(): (str(name), "WITHOUT ROWID" in " ".join(str(sql).upper().split()))
        for name, sql in rows
    }


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(f"PRAGMA {schema}.table_xinfo({_quote(table)})").fetchall()
    return [str(r[1]) for r in rows]


def rows_lost(backup: Path, database: Path) -> tuple[TableLoss, ...]:
    """Compare the `backup` copy with the `database` row by row (by rowid, over the columns
    both have) and return, per table that differs, what restoring the backup would undo.

    Rows deleted since the backup are not listed: a restore brings them back, it loses
    nothing. Raises sqlite3.Error if either file cannot be read."""
    conn = sqlite3.connect(f"{Path(database).resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS before", (f"{Path(backup).resolve().as_uri()}?mode=ro",))
        now, then = _tables(conn, "main"), _tables(conn, "before")
        found: list[TableLoss] = []
        for key, (name, without_rowid) in sorted(now.items()):
            q = _quote(name)
            if key not in then:
                count = int(conn.execute(f"SELECT count(*) FROM main.{q}").fetchone()[0])
                found.append(TableLoss(name, count, 0, created=True))
                continue
            old_name, old_without_rowid = then[key]
            old = {c.lower() for c in _columns(conn, "before", old_name)}
            common = [c for c in _columns(conn, "main", name) if c.lower() in old]
            qo = _quote(old_name)
            if without_rowid or old_without_rowid:
                # No rowid to pair rows by: a row whose values are in no row of the backup
                # was written or changed since.
                cols = ", ".join(_quote(c) for c in common) or "1"
                added = int(
                    conn.execute(
                        f"SELECT count(*) FROM (SELECT {cols} FROM main.{q} "
                        f"EXCEPT SELECT {cols} FROM before.{qo})"
                    ).fetchone()[0]
                )
                changed = 0
            else:
                added = int(
                    conn.execute(
                        f"SELECT count(*) FROM main.{q} WHERE rowid NOT IN "
                        f"(SELECT rowid FROM before.{qo})"
                    ).fetchone()[0]
                )
                # Columns compared across tables get SQLite's comparison affinity, so a value
                # a type change only converted ('7' and 7) counts as the same.
                same = " AND ".join(f"n.{_quote(c)} IS o.{_quote(c)}" for c in common) or "1"
                changed = int(
                    conn.execute(
                        f"SELECT count(*) FROM main.{q} AS n JOIN before.{qo} AS o "
                        f"ON o.rowid = n.rowid WHERE NOT ({same})"
                    ).fetchone()[0]
                )
            loss = TableLoss(name, added, changed)
            if loss.any:
                found.append(loss)
        return tuple(found)
    finally:
        conn.close()


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def describe_loss(losses: tuple[TableLoss, ...], *, done: bool = False) -> str:
    """Return what a restore would lose, in words: "restoring would drop 2 rows in orders and
    1 in audit written since the fix" (plus changed rows and tables created since); with
    `done`, what it lost: "restoring dropped ..."."""
    # Most rows first: the biggest loss is the one to read first.
    added = sorted((x for x in losses if x.added and not x.created), key=lambda x: -x.added)
    changed = [x for x in losses if x.changed]
    created = [x for x in losses if x.created]
    parts: list[str] = []
    if added:
        counts = [f"{_rows(added[0].added)} in {added[0].table}"]
        counts += [f"{x.added} in {x.table}" for x in added[1:]]
        verb = "dropped" if done else "drop"
        parts.append(f"{verb} " + _join(counts) + " written since the fix")
    if changed:
        counts = [f"{_rows(x.changed)} in {x.table}" for x in changed]
        verb = "overwrote" if done else "overwrite"
        parts.append(f"{verb} " + _join(counts) + " written or changed since the fix")
    if created:
        tables = [f"table {x.table} ({_rows(x.added)})" for x in created]
        verb = "deleted" if done else "delete"
        parts.append(f"{verb} " + _join(tables) + ", which the backup does not have")
    if not parts:
        return (
            "restoring "
            + ("dropped" if done else "would drop")
            + (" no row (none was added or changed since the backup)")
        )
    return ("restoring " if done else "restoring would ") + "; and ".join(parts)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def database_summary(path: Path) -> dict[str, tuple[str, int]]:
    """Return the schema text and row count (-1: not a table) of each object of the database:
    what a restore from a backup must have put back (`fixes/rollback_check.py`)."""
    # Schema text and row count per table: cheap on large databases (no full checksum), and
    # enough to tell the restored content from the content it replaced in practice.
    # mode=rw, not ro: it never creates the file, and unlike a read-only connection it removes
    # the -wal and -shm files it made when it closes.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    try:
        summary: dict[str, tuple[str, int]] = {}
        for name, sql in conn.execute(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type IN "
            "('table', 'view', 'index', 'trigger') ORDER BY type, name"
        ):
            count = -1
            if str(sql).upper().startswith("CREATE TABLE") and not str(name).startswith("sqlite_"):
                quoted = '"' + str(name).replace('"', '""') + '"'
                count = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            summary[str(name)] = (str(sql), count)
        return summary
    finally:
        conn.close()

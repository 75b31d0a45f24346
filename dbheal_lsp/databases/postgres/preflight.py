"""What is looked at on a server before a fix changes it: its integrity (every foreign key
holds, no index left invalid) and the locks other sessions hold on its tables.

PostgreSQL enforces a foreign key on every write, but a constraint added `NOT VALID`, a
trigger switched off (`session_replication_role = replica`) or a restore with
`--disable-triggers` leaves rows pointing at no parent; a failed `CREATE INDEX CONCURRENTLY`
leaves an index that is never used (`pg_index.indisvalid = false`). Each foreign key is one
query for its orphan rows under `statement_timeout`, in a read-only transaction that is rolled
back, each in a savepoint so that one that runs too long is named and the others still run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbheal_lsp.databases.database import ForeignKeyViolation, Integrity

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "LockHolder",
    "check_integrity",
    "invalid_indexes",
    "lock_holders",
    "orphan_rows",
]

_FOREIGN_KEYS = """
SELECT con.conname, child.relname, parent.relname, pn.nspname,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class child ON child.oid = con.conrelid
JOIN pg_namespace cn ON cn.oid = child.relnamespace
JOIN pg_class parent ON parent.oid = con.confrelid
JOIN pg_namespace pn ON pn.oid = parent.relnamespace
WHERE con.contype = 'f' AND cn.nspname = %s AND (%s::text[] IS NULL OR child.relname = ANY(%s))
ORDER BY child.relname, con.conname
"""
_INVALID_INDEXES = """
SELECT ic.relname, tc.relname FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname = %s AND NOT i.indisvalid AND (%s::text[] IS NULL OR tc.relname = ANY(%s))
ORDER BY 1
"""
# Locks on the schema's tables (and their indexes, named by their table) granted to another
# session than this one; a lock a prepared transaction holds has no pid and no session.
_LOCKS = """
SELECT DISTINCT coalesce(t.relname, c.relname), l.mode, l.pid, coalesce(s.state, ''),
       coalesce(extract(epoch FROM now() - s.xact_start)::int, 0)
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_stat_activity s ON s.pid = l.pid
WHERE l.granted AND l.pid IS DISTINCT FROM pg_backend_pid() AND n.nspname = %s
  AND c.relkind IN ('r', 'p', 'm', 'i')
  AND (%s::text[] IS NULL OR coalesce(t.relname, c.relname) = ANY(%s))
ORDER BY 1, 3, 2
"""


@dataclass(frozen=True)
class LockHolder:
    """A lock another session holds on a table: which, how, and the session."""

    table: str
    mode: str  # as pg_locks names it: AccessShareLock, RowExclusiveLock, ...
    pid: int | None  # None for a prepared transaction (PREPARE TRANSACTION)
    state: str  # pg_stat_activity.state: "idle in transaction", "active", ...
    seconds: int  # since its transaction began

    def __str__(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "a prepared transaction"
        state = f", {self.state}" if self.state else ""
        return f"{self.table} ({self.mode}, {who}{state}, transaction open {self.seconds} s)"


def lock_holders(
    conn: psycopg.Connection[Any], schema: str, tables: Sequence[str] | None = None
) -> list[LockHolder]:
    """Return the locks other sessions hold on the tables of `schema` (only `tables` when
    given), a lock on an index counted as one on its table."""
    names = list(tables) if tables is not None else None
    rows = conn.execute(_LOCKS, (schema, names, names)).fetchall()
    return [LockHolder(str(r[0]), str(r[1]), r[2], str(r[3]), int(r[4])) for r in rows]


def invalid_indexes(
    conn: psycopg.Connection[Any], schema: str, tables: Sequence[str] | None = None
) -> list[str]:
    """Return a line for each invalid index of `schema` (of `tables` only, when given)."""
    names = list(tables) if tables is not None else None
    rows = conn.execute(_INVALID_INDEXES, (schema, names, names)).fetchall()
    return [
        f"index {r[0]} on {r[1]} is invalid (pg_index.indisvalid = false; a failed CREATE "
        f"INDEX CONCURRENTLY?): the planner never uses it; REINDEX INDEX {_quoted(r[0])} or "
        "drop it"
        for r in rows
    ]


def orphan_rows(
    conn: psycopg.Connection[Any],
    schema: str,
    max_rows: int,
    tables: Sequence[str] | None = None,
) -> tuple[list[ForeignKeyViolation], int, list[str]]:
    """Return the first `max_rows` rows whose foreign key points at no parent row, how many
    there are in all, and a line for each foreign key that could not be checked (it ran past
    statement_timeout, say). Runs inside the caller's transaction, each key in a savepoint."""
    import psycopg

    names = list(tables) if tables is not None else None
    keys = conn.execute(_FOREIGN_KEYS, (schema, names, names)).fetchall()
    found: list[ForeignKeyViolation] = []
    count = 0
    skipped: list[str] = []
    for number, (name, child, parent, parent_schema, cols, parent_cols) in enumerate(keys):
        sql = _orphans_sql(schema, child, parent_schema, parent, list(cols), list(parent_cols))
        conn.execute("SAVEPOINT dbheal_fk")
        try:
            row = conn.execute(sql).fetchone()
        except psycopg.Error as exc:
            conn.execute("ROLLBACK TO SAVEPOINT dbheal_fk")
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            skipped.append(f"foreign key {name} of {child} not checked: {reason}")
            continue
        finally:
            conn.execute("RELEASE SAVEPOINT dbheal_fk")
        orphans = int(row[0]) if row else 0
        count += orphans
        for _ in range(min(orphans, max_rows - len(found))):
            found.append(ForeignKeyViolation(child, None, parent, number))
    return found, count, skipped


def check_integrity(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    max_rows: int,
    lock_timeout: float,
    statement_timeout: float,
) -> Integrity:
    """Check that every foreign key of `schema` holds and no index is invalid, read-only,
    each query stopped after `statement_timeout` seconds; the transaction is rolled back."""
    conn.execute("BEGIN READ ONLY")
    try:
        conn.execute(f"SET LOCAL lock_timeout = '{_ms(lock_timeout)}ms'")
        conn.execute(f"SET LOCAL statement_timeout = '{_ms(statement_timeout)}ms'")
        lines = invalid_indexes(conn, schema)
        violations, count, skipped = orphan_rows(conn, schema, max_rows)
    finally:
        conn.execute("ROLLBACK")
    lines += skipped
    return Integrity(tuple(lines) or ("ok",), tuple(violations), count)


def _orphans_sql(
    schema: str, child: str, parent_schema: str, parent: str, cols: list[str], refs: list[str]
) -> str:
    """Count the rows of `child` whose key (no part of it NULL: MATCH SIMPLE) has no parent."""
    present = " AND ".join(f"c.{_quoted(c)} IS NOT NULL" for c in cols)
    joined = " AND ".join(
        f"p.{_quoted(r)} = c.{_quoted(c)}" for c, r in zip(cols, refs, strict=True)
    )
    return (
        f"SELECT count(*) FROM {_quoted(schema)}.{_quoted(child)} c WHERE {present} "
        f"AND NOT EXISTS (SELECT 1 FROM {_quoted(parent_schema)}.{_quoted(parent)} p "
        f"WHERE {joined})"
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))

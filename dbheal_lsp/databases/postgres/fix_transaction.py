"""One schema fix's transaction on a PostgreSQL server: the seam's `FixTransaction`.

`BEGIN`, then `SET LOCAL lock_timeout` (the fix waits that long for a lock another session
holds, then stops with nothing changed) and `statement_timeout`; each step runs inside a
savepoint, so that a failed one leaves the transaction usable for the checks that say why.
The checks read the same transaction before COMMIT: the row count of the changed table, every
query of the plan prepared at the protocol level, the new index valid. A `CREATE INDEX
CONCURRENTLY` step (a large table's index) cannot run in a transaction and waits for every
transaction holding its table, this one's included: the transaction, which has changed nothing
yet, ends before it and begins again after it; the index is checked valid (an invalid one is
dropped and the step fails), and dropped again if the fix is rolled back.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dbheal_lsp.database_url import redacted, scrubbed
from dbheal_lsp.databases.database import Judge, Ran
from dbheal_lsp.databases.postgres import PostgresError
from dbheal_lsp.databases.postgres import type_change as tc
from dbheal_lsp.databases.postgres.catalog import schema_from_catalog
from dbheal_lsp.databases.postgres.connect import LOCK_TIMEOUT, connect
from dbheal_lsp.databases.postgres.connect import STATEMENT_TIMEOUT as CONNECT_STATEMENT_TIMEOUT
from dbheal_lsp.databases.postgres.judge import PostgresJudge
from dbheal_lsp.databases.schema_fixes import CopyComparison, RewrittenValues
from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyCheck

if TYPE_CHECKING:
    import psycopg

    from dbheal_lsp.analysis.schema import Schema

__all__ = [
    "STATEMENT_TIMEOUT",
    "FixError",
    "PostgresTransaction",
    "catalog_version",
    "current_schema",
]

#: How long one statement of a fix may run (a type change rewrites the whole table).
STATEMENT_TIMEOUT = "15min"
_CONCURRENTLY = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(\"(?:[^\"]|\"\")+\"|[\w$]+)",
    re.IGNORECASE,
)
_VERSION_SQL = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'i')
ORDER BY 1, 3
"""


class FixError(PostgresError):
    """A server's error during a fix, with its SQLSTATE (55P03: a lock timeout)."""

    def __init__(self, message: str, sqlstate: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def current_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema first on the connection's search_path."""
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"


def catalog_version(conn: psycopg.Connection[Any], schema: str) -> int:
    """A number that changes with every change to the schema's tables, columns and indexes
    (a digest of the catalog, 60 bits so that it fits SQLite's INTEGER in the history)."""
    rows = conn.execute(_VERSION_SQL, (schema,)).fetchall()
    digest = hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()
    return int(digest[:15], 16)


class _BorrowedJudge(PostgresJudge):
    """A judge on a fix's connection: statements are only prepared (in a savepoint), never
    run, and closing it leaves the connection to the fix."""

    def run(self, sql: str) -> Ran:
        """A script's DDL is not run inside a fix's transaction."""
        return Ran("refused", "no DDL of the code runs inside a fix's transaction")

    def undone(self, name: str) -> AbstractContextManager[None]:
        """Nothing runs in the block (`run` refuses): nothing to undo."""
        return nullcontext()

    def close(self) -> None:
        """The connection is the fix's: left open."""


class PostgresTransaction:
    """A fix's connection to the server (the seam's `FixTransaction`; module docstring)."""

    def __init__(self, url: str, *, lock_timeout: float) -> None:
        self.url = url
        self.label = redacted(url)
        self.lock_timeout = lock_timeout
        self.conn = connect(url)
        self.schema_name = current_schema(self.conn)
        self._concurrent: list[str] = []  # indexes built concurrently, dropped on rollback
        self._rows: dict[str, int] = {}  # row counts before the steps, by table

    # --- the transaction ----------------------------------------------------------------------

    def run(self, sql: str, params: tuple[object, ...] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement; the driver's error becomes FixError (no password in it)."""
        import psycopg

        try:
            cursor = self.conn.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            sqlstate = getattr(getattr(exc, "diag", None), "sqlstate", None) or ""
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FixError(scrubbed(text, self.url), sqlstate) from None

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection."""
        from psycopg import pq

        return self.conn.pgconn.transaction_status != pq.TransactionStatus.IDLE

    def begin(self) -> int:
        """BEGIN with the fix's lock and statement timeouts; return the schema version."""
        self.run("BEGIN")
        self.run(f"SET LOCAL lock_timeout = '{max(1, round(self.lock_timeout * 1000))}ms'")
        self.run(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        return self.schema_version()

    def schema_version(self) -> int:
        """The schema version as this transaction sees it (`catalog_version`)."""
        return catalog_version(self.conn, self.schema_name)

    def execute(self, sql: str, /) -> object:
        """Run one step inside a savepoint (a failed step leaves the transaction usable)."""
        found = _CONCURRENTLY.match(sql)
        if found is not None:
            self._concurrently(sql, found.group(1))
            return None
        self.run("SAVEPOINT dbheal_step")
        try:
            self.run(sql)
        except FixError as exc:
            self.run("ROLLBACK TO SAVEPOINT dbheal_step")
            self.run("RELEASE SAVEPOINT dbheal_step")
            if exc.sqlstate == "55P03":
                raise FixError(f"{exc}{self._held_by(sql)}", exc.sqlstate) from None
            raise
        self.run("RELEASE SAVEPOINT dbheal_step")
        return None

    def _held_by(self, sql: str) -> str:
        """Name the sessions holding a lock on the tables `sql` names (on any table of the
        schema when it names none of them): what the step waited for."""
        from dbheal_lsp.databases.postgres.preflight import lock_holders

        held = lock_holders(self.conn, self.schema_name)
        words = {w.lower() for w in re.findall(r"[\w$]+", sql)}
        named = [h for h in held if h.table.lower() in words] or held
        return f"; held by {', '.join(str(h) for h in named)}" if named else ""

    def _concurrently(self, sql: str, quoted: str) -> None:
        """Build an index outside the transaction, then begin it again (module docstring)."""
        name = quoted[1:-1].replace('""', '"') if quoted.startswith('"') else quoted.lower()
        if self.in_transaction:
            self.run("ROLLBACK")  # nothing written yet: a plan's CONCURRENTLY step is its only one
        self.run(f"SET lock_timeout = '{max(1, round(self.lock_timeout * 1000))}ms'")
        self.run(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
        try:
            self.run(sql)
        except FixError as exc:
            dropped = self._drop_invalid(name)
            raise FixError(f"{exc}{dropped}", exc.sqlstate) from None
        finally:
            # The connection's own timeouts again (connect.py's).
            self.run(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            self.run(f"SET statement_timeout = '{CONNECT_STATEMENT_TIMEOUT}'")
        self._concurrent.append(name)
        valid = self.run(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (self.schema_name, name),
        )
        if not valid or not valid[0][0]:
            self._drop_concurrent()
            raise FixError(f"index {name} was built invalid (pg_index.indisvalid): dropped it")
        self.begin()

    def _drop_invalid(self, name: str) -> str:
        """Drop the index a failed CONCURRENTLY build left behind (invalid); say so."""
        left = self.run(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'i'",
            (self.schema_name, name),
        )
        if not left:
            return ""
        self._concurrent.append(name)
        self._drop_concurrent()
        return f"; the invalid index {name} it left was dropped"

    def _drop_concurrent(self) -> None:
        if self.in_transaction:
            self.run("ROLLBACK")
        for name in self._concurrent:
            self.run(
                f"DROP INDEX CONCURRENTLY IF EXISTS {tc.quote(self.schema_name)}.{tc.quote(name)}"
            )
        self._concurrent = []

    def commit(self) -> None:
        """COMMIT: the fix is kept (an index built concurrently with it)."""
        self.run("COMMIT")
        self._concurrent = []

    def rollback(self) -> None:
        """ROLLBACK, and drop any index this fix built concurrently."""
        if self.in_transaction:
            self.run("ROLLBACK")
        if self._concurrent:
            self._drop_concurrent()

    def close(self) -> None:
        """Roll back whatever is still open and close the connection."""
        try:
            if not self.conn.closed:
                self.rollback()
        finally:
            self.conn.close()

    def schema(self) -> Schema:
        """The schema as this transaction sees it."""
        return schema_from_catalog(self.conn, self.schema_name, "database")

    def own_judge(self) -> Judge:
        """A judge preparing statements in this transaction (it sees the fix before COMMIT):
        the re-analysis's. Closing it leaves the transaction open."""
        return _BorrowedJudge(self.conn, self.schema_name)

    # --- verification -------------------------------------------------------------------------

    def _count(self, table: str) -> int | None:
        exists = self.run(
            "SELECT to_regclass(%s)", (f"{tc.quote(self.schema_name)}.{tc.quote(table)}",)
        )
        if not exists or exists[0][0] is None:
            return None
        rows = self.run(f"SELECT count(*) FROM {tc.quote(self.schema_name)}.{tc.quote(table)}")
        return int(rows[0][0])

    def remember_rows(self, table: str) -> None:
        """Count `table`'s rows before the steps, for `integrity`."""
        count = self._count(table)
        if count is not None:
            self._rows[table] = count

    def integrity(self, plan: MigrationPlan, full: bool) -> VerifyCheck:
        """The changed table is there with as many rows as before the steps; when `full`
        (--integrity), also its foreign keys hold and none of its indexes is invalid."""
        count = self._count(plan.table)
        if count is None:
            return VerifyCheck("table", plan.kind == "rollback", f"no table {plan.table}")
        before = self._rows.get(plan.table)
        if before is None:
            check = VerifyCheck("row count", True, f"{plan.table} has {count} row(s)")
        else:
            detail = f"{plan.table}: {count} row(s), {before} before"
            check = VerifyCheck("row count", count == before, detail)
        if not full or not check.ok:
            return check
        return self._full_integrity(plan.table, check.detail)

    def _full_integrity(self, table: str, counted: str) -> VerifyCheck:
        """The foreign keys of `table` hold and none of its indexes is invalid (preflight.py)."""
        import psycopg

        from dbheal_lsp.databases.postgres.preflight import invalid_indexes, orphan_rows

        try:
            bad = invalid_indexes(self.conn, self.schema_name, [table])
            found, orphans, skipped = orphan_rows(self.conn, self.schema_name, 3, [table])
        except psycopg.Error as exc:
            text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise FixError(scrubbed(text, self.url)) from None
        problems = bad + skipped + ([f"{orphans} row(s): {found[0]}"] if found else [])
        if problems:
            return VerifyCheck("integrity", False, "; ".join(problems))
        return VerifyCheck(
            "integrity", True, f"{counted}; its foreign keys hold, none of its indexes invalid"
        )

    def foreign_keys(self, plan: MigrationPlan) -> VerifyCheck:
        """The server enforces foreign keys on every write: nothing to check after."""
        return VerifyCheck("foreign keys", True, "enforced by PostgreSQL on every write")

    def prepares(self, plan: MigrationPlan) -> list[VerifyCheck]:
        """Each of the plan's queries prepared on the server, in this transaction."""
        judge = PostgresJudge(self.conn, self.schema_name)
        checks = []
        for sql in plan.check_sql:
            verdict = judge.verdict(sql)
            shown = " ".join(sql.split())[:80]
            checks.append(VerifyCheck(f"prepares: {shown}", verdict.kind == "ok", verdict.message))
        return checks

    def index_names(self) -> set[str]:
        """The schema's index names, lower-cased."""
        rows = self.run(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (self.schema_name,)
        )
        return {str(r[0]).lower() for r in rows}

    def index_used(self, plan: MigrationPlan, before: set[str]) -> list[VerifyCheck]:
        """The plan made a new index, and it is valid."""
        made = sorted(self.index_names() - before)
        if not made:
            return [VerifyCheck("index", False, f"no new index on {plan.table}")]
        rows = self.run(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = "
            "i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND c.relname = ANY(%s)",
            (self.schema_name, made),
        )
        invalid = [str(r[0]) for r in rows if not r[1]]
        detail = f"invalid: {', '.join(invalid)}" if invalid else f"{', '.join(made)} valid"
        return [VerifyCheck("index", not invalid, detail)]

    # --- a type change ------------------------------------------------------------------------

    def lossy_mode(self, plan: MigrationPlan) -> str:
        """ "null" when the plan's USING stores NULL for values that do not convert, else
        "refuse" (the ALTER fails on them)."""
        return "null" if any(tc.NULL_MARK in s.sql for s in plan.steps) else "refuse"

    def lossy_report(self, plan: MigrationPlan) -> LossyReport:
        """The values the change would fail on or change (`type_change.lossy_report`)."""
        self.remember_rows(plan.table)
        return tc.lossy_report(
            self.conn, self.schema_name, plan.table, plan.column or "", plan.new_type or "", 5
        )

    def compare_copy(self, plan: MigrationPlan) -> CopyComparison:
        """No copy on PostgreSQL: the ALTER rewrites the table itself."""
        raise ValueError("a PostgreSQL type change makes no copy of the table")

    def rewritten_values(self, plan: MigrationPlan, limit: int) -> RewrittenValues:
        """No copy on PostgreSQL (ValueError)."""
        raise ValueError("a PostgreSQL type change makes no copy of the table")

    def change_type_plan(self, plan: MigrationPlan, on_lossy: str) -> MigrationPlan:
        """The same change with lossy values treated as `on_lossy` says."""
        fresh = tc.change_type_plan(
            self.conn,
            self.schema_name,
            plan.table,
            plan.column or "",
            plan.new_type or "",
            on_lossy=on_lossy,
            lock_timeout=self.lock_timeout,
            fingerprint=plan.issue_fingerprint,
            version=plan.schema_version,
            check_sql=plan.check_sql,
        )
        return replace(fresh, id=plan.id)

"""Opening a PostgreSQL connection: psycopg imported here only when a project names a server,
its absence and an unreachable server each said in one line, never with the password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbheal_lsp.database_url import redacted, scrubbed
from dbheal_lsp.databases.database import SchemaError

if TYPE_CHECKING:
    import psycopg

__all__ = ["NEEDS_PSYCOPG", "connect"]

NEEDS_PSYCOPG = "PostgreSQL needs psycopg: pip install 'dbheal-lsp[postgres]'"

#: Seconds to wait for a server before saying it cannot be reached.
CONNECT_TIMEOUT = 5
#: How long one statement of dbheal's (a prepare, a catalog read) waits for a lock, and runs.
LOCK_TIMEOUT = "2s"
STATEMENT_TIMEOUT = "10s"


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """Return an autocommit connection to `url`; raise SchemaError (one line, no password) when
    psycopg is missing or the server cannot be reached."""
    try:
        import psycopg
    except ImportError:
        raise SchemaError(NEEDS_PSYCOPG) from None
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="dbheal",
            # No statement psycopg prepares on its own: dbheal leaves none behind.
            prepare_threshold=None,
        )
        # A prepare waits for the locks its tables are under (a migration running on the
        # server): dbheal waits a little, then does not judge, rather than hang.
        conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
        return conn
    except psycopg.Error as exc:
        first = scrubbed(str(exc).strip().splitlines()[0] if str(exc).strip() else "", url)
        raise SchemaError(f"cannot connect to {redacted(url)}: {first}") from None

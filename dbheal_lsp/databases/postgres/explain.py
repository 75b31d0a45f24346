"""The query plan on PostgreSQL, read as the plan lines the rules know (SQLite's words).

`EXPLAIN` runs inside a transaction that is rolled back, with sequential scans switched off
(`SET LOCAL enable_seqscan = off`): a table still read in full then has no index that serves the
filter, whatever its size or statistics (plain EXPLAIN prefers a Seq Scan on small tables).
The statement's `$n` parameters need a generic plan: PostgreSQL 15 has no `EXPLAIN
(GENERIC_PLAN)`, so it is `PREPARE`d and `EXPLAIN EXECUTE`d with NULLs under
`plan_cache_mode = force_generic_plan` (the NULLs take the parameters' inferred types and, the
plan being generic, are never folded into it), then deallocated: a prepared statement outlives
a ROLLBACK.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dbheal_lsp.databases.postgres.params import Dollared

if TYPE_CHECKING:
    import psycopg

__all__ = ["plan_lines", "query_plan"]

_PLAN_NAME = "dbheal_plan"


def query_plan(conn: psycopg.Connection[Any], sent: Dollared) -> list[str]:
    """Return the plan lines of `sent` (see module docstring), or [] when it cannot be planned."""
    import psycopg
    from psycopg import pq

    prepared = False
    try:
        conn.execute("BEGIN")
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute("SET LOCAL statement_timeout = '5s'")
        text = f"PREPARE {_PLAN_NAME} AS {sent.text}".encode("utf-8", "replace")
        prepared = conn.pgconn.exec_(text).status == pq.ExecStatus.COMMAND_OK
        if not prepared:
            return []
        nulls = ", ".join(["NULL"] * sent.count)
        arguments = f"({nulls})" if sent.count else ""
        row = conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {_PLAN_NAME}{arguments}").fetchone()
    except psycopg.Error:
        return []
    finally:
        _end(conn, prepared)
    if row is None:
        return []
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return list(plan_lines(document[0]["Plan"]))


def _end(conn: psycopg.Connection[Any], prepared: bool) -> None:
    """Roll the transaction back and free the prepared statement: nothing is left behind."""
    import psycopg

    try:
        conn.execute("ROLLBACK")
        if prepared:
            conn.execute(f"DEALLOCATE {_PLAN_NAME}")
    except psycopg.Error:
        conn.pgconn.exec_(b"ROLLBACK")


def plan_lines(node: dict[str, Any]) -> Iterator[str]:
    """Yield a plan node's lines and its children's, in SQLite's words: `SCAN t` for a table
    read in full (a Seq Scan, or an index scan with no condition), `SEARCH t USING INDEX i`
    for a search, `USE TEMP B-TREE FOR ORDER BY` for a sort."""
    kind = node.get("Node Type", "")
    alias = node.get("Alias") or node.get("Relation Name")
    children = node.get("Plans", [])
    if kind == "Seq Scan" and alias:
        yield f"SCAN {alias}"
    elif kind in ("Index Scan", "Index Only Scan") and alias:
        condition = node.get("Index Cond")
        if condition:
            yield f"SEARCH {alias} USING INDEX {node.get('Index Name')} ({condition})"
        else:
            yield f"SCAN {alias} USING INDEX {node.get('Index Name')}"
    elif kind == "Bitmap Heap Scan" and alias:
        names = [str(c["Index Name"]) for c in _descendants(node) if c.get("Index Name")]
        yield f"SEARCH {alias} USING INDEX {', '.join(names)} ({node.get('Recheck Cond', '')})"
        children = []
    elif kind == "Sort":
        yield "USE TEMP B-TREE FOR ORDER BY"
    for child in children:
        yield from plan_lines(child)


def _descendants(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in node.get("Plans", []):
        yield child
        yield from _descendants(child)

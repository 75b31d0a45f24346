"""Time one statement's parse by pglast (libpg_query, PostgreSQL's own parser) against sqlglot's
parse in its postgres dialect: what the offline verdict (databases/postgres/offline_judge.py)
costs, and what it replaces.

A mix of statements an application sends (selects with joins, inserts with RETURNING and ON
CONFLICT, updates, PostgreSQL's casts and JSON operators, one syntax error) is parsed
`--runs` times by each (pglast both ways: its JSON tree, and its Python node objects); the script prints the median microseconds a statement takes and makes
no assertions.

Usage (from the repository root)::

    .venv/bin/python bench/pglast_speed.py
    .venv/bin/python bench/pglast_speed.py --runs 50
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

STATEMENTS = (
    "SELECT id, email FROM users WHERE id = $1",
    "SELECT u.id, u.email, count(o.id) AS orders FROM users u LEFT JOIN orders o "
    "ON o.user_id = u.id WHERE u.created > now() - interval '7 days' GROUP BY u.id, u.email "
    "ORDER BY orders DESC LIMIT 20",
    "INSERT INTO users (email, name) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE "
    "SET name = excluded.name RETURNING id",
    "UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $1",
    "SELECT id::text, data->>'plan' FROM accounts WHERE data ? 'plan' AND email ILIKE $1",
    "DELETE FROM sessions WHERE expires_at < now() RETURNING user_id",
    "SELECT id FRM users",
)


def _pglast_json() -> Callable[[str], object]:
    from pglast.parser import ParseError, parse_sql_json

    def parse(text: str) -> object:
        try:
            return json.loads(parse_sql_json(text))
        except ParseError:
            return None

    return parse


def _pglast_objects() -> Callable[[str], object]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    def parse(text: str) -> object:
        try:
            return parse_sql(text)
        except ParseError:
            return None

    return parse


def _offline_verdict() -> Callable[[str], object]:
    from dbheal_lsp.databases.postgres.offline_judge import offline_verdict
    from dbheal_lsp.databases.postgres.offline_schema import offline_schema_from_ddl
    from dbheal_lsp.model import Origin

    ddl = (
        "CREATE TABLE users (id serial PRIMARY KEY, email text, name text, created timestamptz);"
        "CREATE TABLE orders (id int, user_id int);"
        "CREATE TABLE accounts (id int, balance numeric, email text, data jsonb);"
        "CREATE TABLE sessions (user_id int, expires_at timestamptz)"
    )
    schema = offline_schema_from_ddl([(ddl, Origin("bench.sql", 1))])
    return lambda text: offline_verdict(text, schema)


def _sqlglot() -> Callable[[str], object]:
    import sqlglot
    from sqlglot.errors import SqlglotError

    def parse(text: str) -> object:
        try:
            return sqlglot.parse_one(text, read="postgres")
        except SqlglotError:
            return None

    return parse


def median_microseconds(parse: Callable[[str], object], runs: int) -> float:
    """Return the median time of one statement's parse, in microseconds."""
    for text in STATEMENTS:  # warm-up: imports, caches
        parse(text)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for text in STATEMENTS:
            parse(text)
        times.append((time.perf_counter() - start) / len(STATEMENTS))
    return statistics.median(times) * 1e6


def main() -> None:
    """Print the Markdown table of both parsers' median times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rows = {
        "pglast, libpg_query's JSON tree (what the offline verdict parses)": _pglast_json(),
        "pglast, Python node objects (`pglast.parse_sql`)": _pglast_objects(),
        "sqlglot, `parse_one(read='postgres')`": _sqlglot(),
        "dbheal's whole offline verdict (parse + names)": _offline_verdict(),
    }
    print("| parse | µs a statement (median) |")
    print("|---|---:|")
    for label, parse in rows.items():
        print(f"| {label} | {median_microseconds(parse, args.runs):.1f} |")


if __name__ == "__main__":
    main()

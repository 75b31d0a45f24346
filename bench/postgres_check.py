"""Time `dbheal check` on a PostgreSQL server against the bare prepare of the same statements.

A project of `--statements` SQL statements (default 2,000; 20 Python files of psycopg calls:
selects with joins and filters, inserts with RETURNING and ON CONFLICT, updates, deletes, a few
with a planted mistake) is generated with its schema on a server. Then, each the median of
`--runs` runs:

- *bare prepare*: one psycopg connection prepares and describes every statement (libpq's
  `PQprepare` + `PQdescribePrepared`, the `$n` spelling written by hand): the floor, what the
  server itself costs;
- *dbheal check*: `python -m dbheal_lsp check --database URL --no-cache --jobs 1` on the
  project, a new process each run (finding the SQL in the code, the catalog, the server's
  verdicts, the plans of the statements that filter, the rules);
- *dbheal check, empty project*: the same command on a project with no code: the process, the
  imports, connecting and reading the catalog once.

The server is `--database URL`, else `DATABASE_URL`, else a throwaway cluster started here
(PostgreSQL's `initdb` and `pg_ctl` on PATH or in Debian's /usr/lib/postgresql/*/bin, as the
`postgres` user when run as root), stopped at the end. The script prints a Markdown table and
makes no assertions.

Usage (from the repository root)::

    .venv/bin/python bench/postgres_check.py
    .venv/bin/python bench/postgres_check.py --statements 500 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pg_cluster import cluster

REPO = Path(__file__).resolve().parent.parent
_CHECK = (sys.executable, "-m", "dbheal_lsp", "check")

SCHEMA = """
CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL UNIQUE, owner text NOT NULL,
    balance_cents bigint NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id),
    amount_cents bigint NOT NULL, memo text, booked_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ledger_account ON ledger (account_id);
CREATE TABLE sessions (token text PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id),
    expires_at timestamptz NOT NULL);
"""
# (statement with %s placeholders, number of values); {n} makes each text distinct.
TEMPLATES = (
    ("SELECT id, email FROM accounts WHERE id = %s AND balance_cents > {n}", 1),
    (
        "SELECT a.id, sum(l.amount_cents) FROM accounts a JOIN ledger l ON l.account_id = a.id "
        "WHERE a.created_at > now() - interval '{n} days' GROUP BY a.id",
        0,
    ),
    (
        "INSERT INTO ledger (account_id, amount_cents, memo) VALUES (%s, %s, 'm{n}') RETURNING id",
        2,
    ),
    (
        "INSERT INTO accounts (email, owner) VALUES (%s, %s) ON CONFLICT (email) "
        "DO UPDATE SET owner = excluded.owner || '{n}'",
        2,
    ),
    ("UPDATE accounts SET balance_cents = balance_cents + {n} WHERE id = %s", 1),
    ("DELETE FROM sessions WHERE expires_at < now() - interval '{n} hours'", 0),
    ("SELECT account_id FROM sessions WHERE token = %s LIMIT {n}", 1),
    ("SELECT id, emial FROM accounts WHERE id = {n}", 0),  # a planted MISSING_COLUMN
)


def statements(count: int) -> list[tuple[str, int]]:
    """Return `count` distinct statements (and how many values each binds)."""
    return [
        (TEMPLATES[n % len(TEMPLATES)][0].format(n=n), TEMPLATES[n % len(TEMPLATES)][1])
        for n in range(count)
    ]


def write_project(root: Path, found: list[tuple[str, int]], url: str) -> None:
    """Write the project: pyproject.toml and 20 modules of psycopg calls."""
    (root / "pyproject.toml").write_text("[tool.dbheal]\n", encoding="utf-8")
    per_file = max(1, len(found) // 20)
    for start in range(0, len(found), per_file):
        lines = ["def run(conn, a, b):"]
        for sql, values in found[start : start + per_file]:
            args = ", (" + ", ".join(["a", "b"][:values]) + ",)" if values else ""
            lines.append(f'    conn.execute("{sql}"{args})')
        (root / f"module_{start // per_file:02}.py").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )


def bare_prepare(url: str, found: list[tuple[str, int]]) -> float:
    """Return the seconds one connection takes to prepare and describe every statement."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        texts = []
        for sql, _ in found:
            parts = sql.split("%s")
            text = parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], 1))
            texts.append(text.encode())
        pgconn = conn.pgconn
        start = time.perf_counter()
        for text in texts:
            pgconn.prepare(b"", text)
            pgconn.describe_prepared(b"")
        pgconn.prepare(b"", b"")  # nothing left prepared
        return time.perf_counter() - start


def dbheal_check(root: Path, url: str) -> float:
    """Return the seconds `dbheal check` takes on `root` (a new process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    subprocess.run(
        [*_CHECK, "--database", url, "--no-cache", "--jobs", "1", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start


@contextmanager
def server(url: str | None) -> Iterator[str]:
    """Yield `url`, or the URL of a throwaway cluster started (and stopped) here."""
    if url:
        yield url
        return
    with cluster() as started:
        yield started


def main() -> None:
    """Print the Markdown table of the three timings."""
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    found = statements(args.statements)
    with server(args.database) as url, tempfile.TemporaryDirectory() as folder:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            conn.execute(SCHEMA.encode())
        project, empty = Path(folder, "project"), Path(folder, "empty")
        project.mkdir()
        empty.mkdir()
        write_project(project, found, url)
        (empty / "pyproject.toml").write_text("[tool.dbheal]\n", encoding="utf-8")
        bare = statistics.median(bare_prepare(url, found) for _ in range(args.runs))
        check = statistics.median(dbheal_check(project, url) for _ in range(args.runs))
        floor = statistics.median(dbheal_check(empty, url) for _ in range(args.runs))
    n = len(found)
    print(f"| {n:,} statements, median of {args.runs} | seconds | ms a statement |")
    print("|---|---:|---:|")
    print(f"| bare prepare + describe (one connection) | {bare:.2f} | {bare / n * 1e3:.2f} |")
    print(f"| `dbheal check --jobs 1` | {check:.2f} | {check / n * 1e3:.2f} |")
    print(f"| `dbheal check`, empty project (fixed cost) | {floor:.2f} | |")
    net = check - floor
    print(f"| `dbheal check` less its fixed cost | {net:.2f} | {net / n * 1e3:.2f} |")


if __name__ == "__main__":
    main()

"""Time a column's type change on PostgreSQL through dbheal against the bare ALTER TABLE.

A table of ``--rows`` rows (200,000 by default: an id, a text column of numbers `qty` and a
padding column) is made on a server, then changed from text to integer, each way ``--runs``
times on a fresh copy of the table, and the median printed as a Markdown table:

- *bare ALTER*: ``ALTER TABLE items ALTER COLUMN qty TYPE integer USING qty::integer`` alone,
  on an autocommit connection;
- *dbheal dry run*: the guarded count of the values that would not convert or would change
  (`lossy_report`), what `dbheal heal` shows before asking;
- *dbheal executor*: `fixes/apply.py`'s `apply_plan`: BEGIN with lock_timeout, the schema
  version, the lossy scan, the ALTER in a savepoint, the row count and checks, COMMIT;
- *dbheal fix*: the fix engine's `apply_schema` as `dbheal heal --yes` runs it: the executor,
  plus the table copied into `dbheal_backup` first, the re-analysis of the code, the history
  and the migration file written.

The server is the one the URL names (``--url``), else a throwaway cluster started in a temporary
folder with Debian's PostgreSQL binaries (as the `postgres` user when run as root) and stopped
at the end. The script makes no assertions.

Usage (from the repository root)::

    .venv/bin/python bench/postgres_type_change.py
    .venv/bin/python bench/postgres_type_change.py --rows 1000000 --runs 3 --url postgresql://...
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from pg_cluster import cluster  # noqa: E402

from dbheal_lsp.analysis.project import load_project  # noqa: E402
from dbheal_lsp.databases.postgres.fix_target import server_file  # noqa: E402
from dbheal_lsp.databases.postgres.fix_transaction import catalog_version  # noqa: E402
from dbheal_lsp.databases.postgres.type_change import change_type_plan, lossy_report  # noqa: E402
from dbheal_lsp.fixes.apply import apply_plan  # noqa: E402
from dbheal_lsp.fixes.orchestrator import FixEngine  # noqa: E402
from dbheal_lsp.model import MigrationPlan  # noqa: E402

ALTER = "ALTER TABLE items ALTER COLUMN qty TYPE integer USING qty::integer"


def fresh_table(conn: psycopg.Connection[tuple[object, ...]], rows: int) -> None:
    """items(id, qty text, pad text) with `rows` rows of numbers, analyzed."""
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute("DROP SCHEMA IF EXISTS dbheal_backup CASCADE")
    conn.execute("CREATE TABLE items (id serial PRIMARY KEY, qty text, pad text)")
    conn.execute(
        "INSERT INTO items (qty, pad) SELECT g::text, md5(g::text) FROM generate_series(1, %s) g",
        (rows,),
    )
    conn.execute("ANALYZE items")


def timed(runs: int, setup: Callable[[], None], work: Callable[[], object]) -> float:
    """The median of `runs` timings of `work`, each after an untimed `setup`."""
    times = []
    for _ in range(runs):
        setup()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="a server to use (default: a throwaway cluster)")
    args = parser.parse_args()
    with cluster() if args.url is None else _given(args.url) as url:
        measure(url, args.rows, args.runs)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def measure(url: str, rows: int, runs: int) -> None:
    """Print the Markdown table of the four timings (see the module docstring)."""
    project = Path(tempfile.mkdtemp(prefix="dbheal-bench-project-"))
    (project / "pyproject.toml").write_text(f'[tool.dbheal]\ndatabase = "{url}"\n')
    database = server_file(project, url)
    conn = psycopg.connect(url, autocommit=True)
    server = conn.execute("SHOW server_version").fetchone()
    setup = lambda: fresh_table(conn, rows)  # noqa: E731

    def plan() -> MigrationPlan:
        version = catalog_version(conn, "public")
        return change_type_plan(conn, "public", "items", "qty", "integer", version=version)

    def through_engine() -> None:
        outcome = FixEngine(load_project(project)).apply_schema(plan())
        assert outcome.applied, outcome.message

    results = {
        "bare ALTER": timed(runs, setup, lambda: conn.execute(ALTER)),
        "dbheal dry run (values that would fail or change)": timed(
            runs, setup, lambda: lossy_report(conn, "public", "items", "qty", "integer", 5)
        ),
        "dbheal executor (apply_plan)": timed(runs, setup, lambda: apply_plan(database, plan())),
        "dbheal fix (backup, re-analysis, history)": timed(runs, setup, through_engine),
    }
    conn.execute("DROP TABLE IF EXISTS items")
    conn.close()
    shutil.rmtree(project, ignore_errors=True)
    bare = results["bare ALTER"]
    print(f"PostgreSQL {server[0] if server else '?'}, {rows} rows, median of {runs} runs\n")
    print("| | time | vs bare ALTER |\n|---|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds * 1000:.0f} ms | {seconds / bare:.2f}x |")


if __name__ == "__main__":
    main()

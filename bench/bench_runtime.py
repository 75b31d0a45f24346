"""Time the runtime wrapper's successful path against raw sqlite3, side by side in one run.

A database file (in a temporary folder) holds `users` with 1,000 rows. Each workload sends
``--queries`` small queries (100,000 by default) through a raw `sqlite3.connect` connection and
through `dbheal_lsp.runtime.connect` (and, for the first workload, a `wrap()` proxy), every
connection in the same process on the same file:

- *point select*: ``conn.execute("SELECT name, email FROM users WHERE id = ?", (k,)).fetchone()``;
- *cursor select*: the same through one cursor, ``cur.execute(...)`` then ``cur.fetchone()``;
- *trivial select*: ``conn.execute("SELECT ?", (k,)).fetchone()``, where SQLite does the least
  work, so the wrapper's share is the largest;
- *update*: ``conn.execute("UPDATE users SET visits = visits + 1 WHERE id = ?", (k,))`` inside
  one transaction (rolled back at the end of each run).

The variants of a workload run one after the other in each round (their order alternates) and
``--rounds`` rounds are timed after one untimed warm-up. The overhead is the median over rounds
of (dbheal time / raw time) - 1, so that a round slowed by other work on the machine counts for
both. The script also times what a heal costs (the first query on a missing table: migrations
replayed, lock, CREATE TABLE and its index, event recorded, retry) and the import of
`dbheal_lsp.runtime` in a fresh interpreter. It prints Markdown tables; ``--json FILE`` writes
every figure. Nothing in it asserts on times.

Usage (from the repository root)::

    .venv/bin/python bench/bench_runtime.py
    .venv/bin/python bench/bench_runtime.py --queries 100000 --rounds 9 --json runtime.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

from dbheal_lsp.runtime import connect, wrap  # noqa: E402

ROWS = 1_000
TARGET = 0.05

Workload = Callable[[Any, int], None]


def point_select(conn: Any, n: int) -> None:
    sql = "SELECT name, email FROM users WHERE id = ?"
    for i in range(n):
        conn.execute(sql, (i % ROWS + 1,)).fetchone()


def cursor_select(conn: Any, n: int) -> None:
    sql = "SELECT name, email FROM users WHERE id = ?"
    cur = conn.cursor()
    for i in range(n):
        cur.execute(sql, (i % ROWS + 1,))
        cur.fetchone()


def trivial_select(conn: Any, n: int) -> None:
    for i in range(n):
        conn.execute("SELECT ?", (i,)).fetchone()


def update(conn: Any, n: int) -> None:
    sql = "UPDATE users SET visits = visits + 1 WHERE id = ?"
    for i in range(n):
        conn.execute(sql, (i % ROWS + 1,))
    conn.rollback()


WORKLOADS: dict[str, Workload] = {
    "point select (`conn.execute`)": point_select,
    "cursor select (`cur.execute`)": cursor_select,
    "trivial select (`SELECT ?`)": trivial_select,
    "update in a transaction": update,
}


def make_database(folder: Path) -> Path:
    path = folder / "bench.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
        "visits INTEGER NOT NULL DEFAULT 0)"
    )
    conn.executemany(
        "INSERT INTO users (id, name, email) VALUES (?, ?, ?)",
        [(i, f"user {i}", f"user{i}@example.com") for i in range(1, ROWS + 1)],
    )
    conn.commit()
    conn.close()
    return path


def timed(workload: Workload, conn: Any, n: int) -> float:
    start = time.perf_counter()
    workload(conn, n)
    return time.perf_counter() - start


def run_workloads(
    db: Path, root: Path, queries: int, rounds: int, chunk: int
) -> list[dict[str, Any]]:
    """Time every workload: per round, `queries` queries per variant in chunks of `chunk`,
    the variants taking turns chunk by chunk (in an order that alternates)."""
    results = []
    for name, workload in WORKLOADS.items():
        variants: dict[str, Any] = {
            "raw sqlite3": sqlite3.connect(db),
            "raw sqlite3, second connection (noise)": sqlite3.connect(db),
            "dbheal connect": connect(db, project_root=root, migrations=root / "migrations"),
        }
        if workload is point_select:
            variants["dbheal wrap (proxy)"] = wrap(
                sqlite3.connect(db), project_root=root, migrations=root / "migrations"
            )
        for conn in variants.values():  # warm-up: statement cache, page cache
            timed(workload, conn, min(queries, 10_000))
        chunks: dict[str, list[float]] = {v: [] for v in variants}
        order = list(variants)
        for step in range(rounds * max(queries // chunk, 1)):
            for variant in order if step % 2 == 0 else reversed(order):
                chunks[variant].append(timed(workload, variants[variant], chunk))
        for conn in variants.values():
            conn.close()
        raw = chunks["raw sqlite3"]
        row: dict[str, Any] = {"workload": name, "queries": queries, "chunk": chunk}
        for variant, values in chunks.items():
            row[variant] = {
                "seconds_per_100k": statistics.median(values) / chunk * 100_000,
                "us_per_query": statistics.median(values) / chunk * 1e6,
                "overhead": statistics.median(v / r for v, r in zip(values, raw, strict=True))
                - 1.0,
                "chunks_s": values,
            }
        results.append(row)
    return results


MIGRATION = """
CREATE TABLE audit (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, what TEXT NOT NULL);
CREATE INDEX audit_user ON audit (user_id);
CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, body TEXT);
CREATE INDEX notes_user ON notes (user_id);
"""


def heal_cost(folder: Path, repeat: int) -> dict[str, list[float]]:
    """Time the failing paths, with a fresh database and project each time: the first heal in
    the project (its state file is created), a second heal (another table of the same
    migrations), and a query on a table that no migration defines (recorded, raised again),
    against the same query through raw sqlite3."""
    times: dict[str, list[float]] = {"first": [], "second": [], "refused": [], "raw error": []}
    for n in range(repeat):
        project = folder / f"heal{n}"
        (project / "migrations").mkdir(parents=True)
        (project / "migrations" / "001_audit.sql").write_text(MIGRATION, encoding="utf-8")
        db = make_database(project)
        conn = connect(db, project_root=project)
        raw = sqlite3.connect(db)
        for key, sql in (
            ("first", "SELECT count(*) FROM audit"),
            ("second", "SELECT count(*) FROM notes"),
        ):
            start = time.perf_counter()
            conn.execute(sql).fetchone()
            times[key].append(time.perf_counter() - start)
        for key, target in (("refused", conn), ("raw error", raw)):
            start = time.perf_counter()
            with contextlib.suppress(sqlite3.OperationalError):
                target.execute("SELECT count(*) FROM nope")
            times[key].append(time.perf_counter() - start)
        conn.close()
        raw.close()
    return times


def import_cost(repeat: int, cache: Path) -> dict[str, float]:
    """Median time of `import X` in a fresh interpreter, with its bytecode cached (in a
    temporary PYTHONPYCACHEPREFIX, warmed by a first untimed run) as in a deployed app."""
    code = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    found: dict[str, float] = {}
    for module in ("sqlite3", "dbheal_lsp.runtime"):
        runs = []
        for _ in range(repeat + 1):
            out = subprocess.run(
                [sys.executable, "-c", code.format(module=module)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
                env=env,
            )
            runs.append(float(out.stdout.strip()))
        found[module] = statistics.median(runs[1:])
    return found


def percent(value: float) -> str:
    return f"{value * 100:+.1f} %"


def markdown(
    results: list[dict[str, Any]], heal: dict[str, list[float]], imports: dict[str, float]
) -> str:
    queries = results[0]["queries"]
    lines = [
        f"| workload | variant | s per {queries:,} queries | µs per query | overhead | "
        "target ≤ 5 % |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in results:
        for variant in (
            "raw sqlite3",
            "raw sqlite3, second connection (noise)",
            "dbheal connect",
            "dbheal wrap (proxy)",
        ):
            figures = row.get(variant)
            if figures is None:
                continue
            if variant == "dbheal connect":
                target = "met" if figures["overhead"] <= TARGET else "**not met**"
            else:
                target = ""
            overhead = "—" if variant == "raw sqlite3" else percent(figures["overhead"])
            lines.append(
                f"| {row['workload']} | {variant} | "
                f"{figures['seconds_per_100k'] * queries / 100_000:.3f} | "
                f"{figures['us_per_query']:.2f} | {overhead} | {target} |"
            )
    lines += [
        "",
        "| one-off cost | median |",
        "| --- | ---: |",
        f"| first query on a missing table in a fresh project, healed (replay, lock, CREATE "
        f"TABLE + index, state file created, event recorded, retry; {len(heal['first'])} runs) | "
        f"{statistics.median(heal['first']) * 1e3:.1f} ms |",
        f"| a second missing table of the same project, healed | "
        f"{statistics.median(heal['second']) * 1e3:.1f} ms |",
        f"| a query on a table no migration defines, recorded and raised again | "
        f"{statistics.median(heal['refused']) * 1e3:.1f} ms |",
        f"| the same query through raw sqlite3 | "
        f"{statistics.median(heal['raw error']) * 1e3:.3f} ms |",
        f"| `import sqlite3` in a fresh interpreter | {imports['sqlite3'] * 1e3:.1f} ms |",
        f"| `import dbheal_lsp.runtime` in a fresh interpreter (sqlite3 included) | "
        f"{imports['dbheal_lsp.runtime'] * 1e3:.1f} ms |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=100_000, help="queries per run")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per workload")
    parser.add_argument("--chunk", type=int, default=5_000, help="queries per timed chunk")
    parser.add_argument("--heal-runs", type=int, default=5, help="runs of the heal timing")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    logging.getLogger("dbheal_lsp.runtime").setLevel(logging.ERROR)  # the heals it times

    folder = Path(tempfile.mkdtemp(prefix="dbheal-bench-runtime-"))
    try:
        project = folder / "project"
        (project / "migrations").mkdir(parents=True)
        (project / "migrations" / "001_audit.sql").write_text(MIGRATION, encoding="utf-8")
        db = make_database(project)
        results = run_workloads(db, project, args.queries, args.rounds, args.chunk)
        heal = heal_cost(folder, args.heal_runs)
        imports = import_cost(5, folder / "pycache")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(
        f"CPython {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()}, {args.rounds} rounds of {args.queries:,} queries per variant "
        f"in chunks of {args.chunk:,}"
    )
    print()
    print(markdown(results, heal, imports))
    if args.json:
        data = {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "machine": platform.machine(),
            "rounds": args.rounds,
            "chunk": args.chunk,
            "workloads": results,
            "failing_paths_s": heal,
            "import_s": imports,
        }
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

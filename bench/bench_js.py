"""Issue 14's speed goal: a JS/TS project checks at most as long as a Python project of the
same size. Generates the two, equal in lines and in SQL, and times a cold `dbheal check` on each.

The two corpora are one project written twice: the same files, each function of the same number
of lines, the same statement in each function, written as each language writes it:

- an inline literal with `?` and its values (`conn.execute(sql, (x,))` / `db.prepare(sql).get(x)`);
- a module constant used by name (`SQL_N = "..."` / `const SQL_N = "..."`);
- a statement over several lines (triple-quoted / a template literal);
- a number put into the text (`f"... {int(x)}"` / `` `... ${parseInt(x)}` ``);
- an INSERT built with `+`, and an UPDATE with two values.

Every 20th statement misspells a column and every 20th (others) is `SELECT *`, so both give the
same findings, which the script checks (same count of each type) before it reports a time. Half
the JS files are `.ts` (with type annotations), half `.js`. The database `app.db` has the three
tables and the indexes every lookup uses; `pyproject.toml` names it.

Each `dbheal check <corpus> --no-cache --format json [--jobs J]` (J = 0: no flag, one worker
per core) runs `--repeat` times (default 5)
after one untimed warm-up, the two corpora in turns, with `$DBHEAL_CACHE_DIR` in a temporary
folder; the wall time of the whole process is taken, and the median reported. No timing is
asserted: the script reports (exit 1 only when a check fails or the findings differ).

Output: a Markdown table on stdout and in ``bench/results/js_vs_python.md``, the figures in
``bench/results/js_vs_python.json``.

Usage (from the repository root)::

    .venv/bin/python bench/bench_js.py                       # 50,000 lines each, jobs 1 and 0
    .venv/bin/python bench/bench_js.py --lines 2000 --repeat 1 --out /tmp/jsbench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "generated" / "js-vs-python"
RESULTS = BENCH_DIR / "results"
FUNCTIONS_PER_FILE = 10
LINES_PER_FUNCTION = 10  # and a file's 2 header lines: 102 lines a file

SCHEMA = """\
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
                    created_at INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total_cents INTEGER NOT NULL,
                     status TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
                       price_cents INTEGER NOT NULL);
CREATE INDEX idx_orders_user_id ON orders (user_id);
CREATE UNIQUE INDEX idx_users_email ON users (email);
"""


def _sql(n: int) -> tuple[str, str]:
    """The statement of function `n` and its shape (the same in both languages)."""
    column = "nmae" if n % 20 == 7 else "name"
    star = n % 20 == 13
    shape = ("inline", "constant", "multiline", "number", "insert", "update")[n % 6]
    if shape == "insert":
        return "INSERT INTO orders (user_id, total_cents, status) VALUES (?, ?, ?)", shape
    if shape == "update":
        return f"UPDATE products SET {column} = ?, price_cents = ? WHERE id = ?", shape
    table = ("users", "products")[n % 2]
    columns = "*" if star else f"id, {column}"
    return f"SELECT {columns} FROM {table} WHERE id = ?", shape


def python_function(n: int) -> tuple[list[str], list[str]]:
    """Function `n` in Python (10 lines) and what it puts at module level."""
    sql, shape = _sql(n)
    top: list[str] = []
    head = [
        f"def handler_{n}(conn, key, items):",
        f'    """Look up record {n} and total its items."""',
        "    total = 0",
        "    for item in items:",
        "        total += item.get('price', 0) * item.get('quantity', 1)",
    ]
    if shape == "inline":
        body = [
            f'    row = conn.execute("{sql}", (key,)).fetchone()',
            "",
            "",
        ]
    elif shape == "constant":
        top = [f'SQL_{n} = "{sql}"']
        body = [f"    row = conn.execute(SQL_{n}, (key,)).fetchone()", ""]  # + 1 line above
    elif shape == "multiline":
        first, _, rest = sql.partition(" WHERE ")
        body = [
            f'    row = conn.execute("""{first}',
            f'        WHERE {rest}""", (key,)).fetchone()',
            "",
        ]
    elif shape == "number":
        text = sql.replace("?", "{int(key)}")
        body = [f'    row = conn.execute(f"{text}").fetchone()', "", ""]
    elif shape == "insert":
        first, _, rest = sql.partition(" VALUES ")
        body = [
            f'    row = conn.execute("{first} "',
            f'                       + "VALUES {rest}", (key, total, "new"))',
            "",
        ]
    else:
        body = [f'    row = conn.execute("{sql}", ("x", total, key))', "", ""]
    tail = ["    if row is None:", "        return None"]
    return [*head, *body, *tail], top


def js_function(n: int, typed: bool) -> tuple[list[str], list[str]]:
    """Function `n` in JavaScript or TypeScript (10 lines) and what it puts at module level."""
    sql, shape = _sql(n)
    top: list[str] = []
    signature = (
        f"export function handler{n}(db: Db, key: number, items: Item[]): Row | undefined {{"
        if typed
        else f"export function handler{n}(db, key, items) {{"
    )
    head = [
        signature,
        f"  // Look up record {n} and total its items.",
        "  let total = 0;",
        "  for (const item of items) {",
        "    total += (item.price ?? 0) * (item.quantity ?? 1); }",
    ]
    if shape == "inline":
        body = [f'  const row = db.prepare("{sql}").get(key);', "", ""]
    elif shape == "constant":
        top = [f'const SQL_{n} = "{sql}";']
        body = [f"  const row = db.prepare(SQL_{n}).get(key);", ""]  # + 1 line above
    elif shape == "multiline":
        first, _, rest = sql.partition(" WHERE ")
        body = [
            f"  const row = db.prepare(`{first}",
            f"    WHERE {rest}`).get(key);",
            "",
        ]
    elif shape == "number":
        text = sql.replace("?", "${parseInt(key)}")
        body = [f"  const row = db.prepare(`{text}`).get();", "", ""]
    elif shape == "insert":
        first, _, rest = sql.partition(" VALUES ")
        body = [
            f'  const row = db.prepare("{first} "',
            f'    + "VALUES {rest}").run(key, total, "new");',
            "",
        ]
    else:
        body = [f'  const row = db.prepare("{sql}").run("x", total, key);', "", ""]
    tail = ["  if (row === undefined) return undefined;", "  return row; }"]
    return [*head, *body, *tail], top


def write_corpora(out: Path, lines: int) -> tuple[Path, Path, int]:
    """Write the Python and the JS/TS corpus of about `lines` lines each under `out`; return
    their folders and the line count of each (the same)."""
    files = max(1, round(lines / (FUNCTIONS_PER_FILE * LINES_PER_FUNCTION + 2)))
    counts = []
    folders = []
    for name in ("python", "javascript"):
        root = out / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
        database = root / "app.db"
        if database.exists():
            database.unlink()
        with sqlite3.connect(database) as db:
            db.executescript(SCHEMA)
        total = 0
        for f in range(files):
            numbers = range(f * FUNCTIONS_PER_FILE, (f + 1) * FUNCTIONS_PER_FILE)
            typed = f % 2 == 1
            made = [
                python_function(n) if name == "python" else js_function(n, typed) for n in numbers
            ]
            top = [line for _, t in made for line in t]
            body = [line for b, _ in made for line in b]
            # Two header lines in each language; a function's constant is one of its 10 lines.
            header = (
                [f'"""Generated module {f}."""', "from __future__ import annotations"]
                if name == "python"
                else [f"// Generated module {f}.", '"use strict";']
            )
            text_lines = [*header, *top, *body]
            ending = ".py" if name == "python" else (".ts" if typed else ".js")
            package = root / "app" / f"pkg{f // 50}"
            package.mkdir(parents=True, exist_ok=True)
            (package / f"module_{f}{ending}").write_text("\n".join(text_lines) + "\n")
            total += len(text_lines)
        counts.append(total)
        folders.append(root)
    assert counts[0] == counts[1], counts
    return folders[0], folders[1], counts[0]


def check_once(root: Path, jobs: int, cache: Path) -> tuple[float, Counter[str]]:
    """Run a cold `dbheal check` of `root`; return its wall time and its findings by type."""
    env = {**os.environ, "DBHEAL_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "dbheal_lsp", "check", ".", "--no-cache", "--format", "json"]
    command += ["--jobs", str(jobs)] if jobs else []  # 0: the default, one worker per core
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"dbheal check failed in {root}: {proc.stderr.strip()[-500:]}")
    return seconds, Counter(issue["type"] for issue in json.loads(proc.stdout))


def measure(python: Path, javascript: Path, repeat: int, jobs: int) -> dict[str, object]:
    """Time both corpora `repeat` times in turns after a warm-up; medians and the findings."""
    times: dict[str, list[float]] = {"python": [], "javascript": []}
    found: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory(prefix="dbheal-bench-js-") as cache:
        for name, root in (("python", python), ("javascript", javascript)):
            _, found[name] = check_once(root, jobs, Path(cache))  # warm-up: imports, page cache
        for _ in range(repeat):
            for name, root in (("python", python), ("javascript", javascript)):
                seconds, found[name] = check_once(root, jobs, Path(cache))
                times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "jobs": jobs,
        "times": times,
        "median": medians,
        "ratio": medians["javascript"] / medians["python"],
        "findings": {name: dict(sorted(c.items())) for name, c in found.items()},
    }


def markdown(lines: int, rows: list[dict[str, object]]) -> str:
    """The results as a Markdown table."""
    out = [
        f"Cold `dbheal check --no-cache` of {lines:,} lines each "
        f"({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores); median of the timed runs, seconds.",
        "",
        "| jobs | Python | JS/TS | JS/TS ÷ Python | findings (each) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        median = row["median"]
        assert isinstance(median, dict)
        findings = row["findings"]
        assert isinstance(findings, dict)
        shown = ", ".join(f"{k} {v}" for k, v in findings["python"].items())
        jobs = row["jobs"] or "all cores"
        out.append(
            f"| {jobs} | {median['python']:.2f} | {median['javascript']:.2f} | "
            f"{row['ratio']:.2f} | {shown} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="lines of each corpus")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument(
        "--jobs", type=int, nargs="+", default=[1, 0], help="--jobs values (0: the default)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the corpora go")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the figures go")
    args = parser.parse_args(argv)
    python, javascript, lines = write_corpora(args.out, args.lines)
    rows = [measure(python, javascript, args.repeat, jobs) for jobs in args.jobs]
    text = markdown(lines, rows)
    sys.stdout.write(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "js_vs_python.md").write_text(text)
    data = {"lines": lines, "rows": rows}
    (args.results / "js_vs_python.json").write_text(json.dumps(data, indent=2) + "\n")
    same = all(
        isinstance(r["findings"], dict) and r["findings"]["python"] == r["findings"]["javascript"]
        for r in rows
    )
    if not same:
        print("the two corpora gave different findings: see the JSON", file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Time `code_fixes` on large files: a fix must cost its call, not its file.

For each file size (1,000 and 10,000 lines by default) a Python file is generated: many
ordinary functions that send parameterized SQL, with the two calls to fix in the middle, a
cast in a parameters tuple (``remove_cast``) and an f-string with a quoted value
(``parameterize``). A real SQLite database (in a temporary folder) is the schema, and every fix
is checked the way the editor gets it: ``code_fixes(source, issue, project)``, which re-analyses
the call before and after the edit.

Two timings per fix, each the median of ``--runs`` runs (default 50) after one untimed warm-up
(the first call imports libcst, which is reported apart):

- *same text*: the same `str` again, as when the editor asks for the fixes of several issues of
  one buffer (the file's hash and line index are reused);
- *new text*: a different text each run (a comment appended at the end), as after every
  keystroke: the file's blake2b hash and line index are computed again, the only part of a fix
  whose cost grows with the file.

A whole-file ``Project.check_source`` is timed once per size for scale. The script prints a
Markdown table and makes no assertions.

Usage (from the repository root)::

    .venv/bin/python bench/bench_fix.py
    .venv/bin/python bench/bench_fix.py --runs 200 --lines 100 1000 10000
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

from dbheal_lsp.analysis.project import Project  # noqa: E402
from dbheal_lsp.config import load_config  # noqa: E402
from dbheal_lsp.languages.python.codefix import code_fixes  # noqa: E402
from dbheal_lsp.model import Issue, IssueType  # noqa: E402

SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token TEXT);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, status TEXT, total_cents INTEGER);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_users_name ON users(name);
CREATE INDEX idx_orders_user_id ON orders(user_id);
"""

FILLER = '''

def order_total_{n}(db, order_id: int) -> int:
    """Sum of order {n} (generated filler: one parameterized query). Café ☕"""
    row = db.execute(
        "SELECT total_cents FROM orders WHERE id = ? AND user_id = ?",
        (order_id, {n}),
    ).fetchone()
    return int(row[0]) if row else 0
'''

TARGETS = """

def sessions_for_user(db, user_id: str) -> list:
    return db.execute("SELECT id FROM sessions WHERE user_id = ?", (int(user_id),)).fetchall()


def by_name(db, name: str) -> list:
    return db.execute(f"SELECT id, email FROM users WHERE name = '{name}'").fetchall()
"""

KINDS = {IssueType.TYPE_MISMATCH: "remove_cast", IssueType.SQL_INJECTION: "parameterize"}


def generate(lines: int) -> str:
    """A module of about `lines` lines with the two calls to fix in its middle."""
    header = '"""Generated for bench_fix.py."""\n\nfrom __future__ import annotations\n'
    per_function = FILLER.count("\n")
    count = max(2, (lines - header.count("\n") - TARGETS.count("\n")) // per_function)
    half = count // 2
    parts = [header]
    parts.extend(FILLER.format(n=n) for n in range(half))
    parts.append(TARGETS)
    parts.extend(FILLER.format(n=n) for n in range(half, count))
    return "".join(parts)


def median_ms(action: Callable[[int], object], runs: int) -> float:
    """The median wall time of `action(run)` over `runs` runs, in milliseconds."""
    times = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def fix_same(source: str, issue: Issue, project: Project, run: int) -> object:
    return code_fixes(source, issue, project)


def fix_new(sources: list[str], issue: Issue, project: Project, run: int) -> object:
    return code_fixes(sources[run], issue, project)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per timing (default 50)")
    parser.add_argument(
        "--lines", type=int, nargs="+", default=[1000, 10000], help="file sizes in lines"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        conn = sqlite3.connect(root / "app.db")
        try:
            conn.executescript(SCHEMA)
        finally:
            conn.close()
        project = Project(load_config(root, {"database": str(root / "app.db"), "cache": False}))

        first_import: float | None = None
        rows: list[str] = []
        for lines in args.lines:
            source = generate(lines)
            start = time.perf_counter()
            result = project.check_source("app/generated.py", source)
            check_ms = (time.perf_counter() - start) * 1000
            for kind, name in KINDS.items():
                issue: Issue = next(i for i in result.issues if i.type is kind)
                start = time.perf_counter()
                fixes = code_fixes(source, issue, project)  # warm-up (imports libcst once)
                if first_import is None:
                    first_import = (time.perf_counter() - start) * 1000
                same = median_ms(functools.partial(fix_same, source, issue, project), args.runs)
                # Appended at the end, the comment moves no span of the issue.
                edited = [f"{source}# edit {run}\n" for run in range(args.runs)]
                new = median_ms(functools.partial(fix_new, edited, issue, project), args.runs)
                offered = "yes" if fixes else "NO FIX"
                rows.append(
                    f"| {source.count(chr(10)):,} | {name} | {offered} | {same:.2f} | {new:.2f} "
                    f"| {check_ms:.0f} |"
                )

    print(f"`code_fixes` with the re-analysis check, median of {args.runs} runs (ms)\n")
    print("| file lines | fix | offered | same text | new text | whole-file check (once) |")
    print("|---:|---|---|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nFirst call, importing libcst: {first_import or 0:.0f} ms.")
    print(f"Python {sys.version.split()[0]} on {sys.platform}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time `dbheal heal --yes` on a 1,000,000-row type change against the bare SQL rebuild.

The original design's case: the ``sessions`` table of ``examples/shop`` (its migration 002: a
TEXT primary key, a UNIQUE token, indexes on ``user_id`` and ``expires_at``) plus a trigger,
1,000,000 rows (``--rows``). The project's migration declares ``user_id`` INTEGER, the database
has it TEXT (SCHEMA_DRIFT), and heal changes it. Each journal mode (``delete``, SQLite's
default rollback journal, and ``wal``) gets its own database, built once by this script; every
run works on a fresh copy of it (the copy is not timed). Two commands are timed, in rounds (one
run of each per round), as the wall time of the whole process:

- ``bare``: the 12-step procedure of https://www.sqlite.org/lang_altertable.html section 7 typed
  by hand, run by the ``sqlite3`` shell when there is one (else ``python -c``) in one
  transaction: ``PRAGMA foreign_keys=OFF``, ``BEGIN``, ``CREATE TABLE new_sessions``, ``INSERT
  ... SELECT``, ``DROP TABLE``, ``ALTER TABLE ... RENAME``, the indexes and the trigger again,
  ``PRAGMA foreign_key_check``, ``COMMIT``. No checks, no backup. It runs with the page cache
  dbheal gives its own rebuild, so that the ratio is what dbheal's safety layer costs, not a
  difference of tuning; it is also timed with SQLite's default cache (the last column).
- ``dbheal``: ``dbheal heal <project> --yes``: the check, the heal list (lossy values, a dry
  run of the schema), the lock, the backup, the rebuild in one transaction with its row-by-row
  verification, ``quick_check``, ``foreign_key_check`` and the re-analysis of the code, the
  commit, the history record and the check afterwards.

Each figure is the median of ``--repeat`` runs (default 3); "ratio of the best runs" compares
the fastest run of each, the figure least disturbed by other work on a shared machine. After
each run the script checks that the column is INTEGER, that every row is there and that the
indexes and the trigger are kept; a run that did not apply is an error (exit status 1).
Nothing asserts on times.

Usage (from the repository root)::

    .venv/bin/python bench/bench_heal.py                      # ~5 minutes
    .venv/bin/python bench/bench_heal.py --rows 100000 --repeat 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"

MIGRATION = """\
-- 001: login sessions: the table of the original design (examples/shop, migration 002), with
-- user_id INTEGER as it should have been, and a trigger.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TRIGGER sessions_audit AFTER DELETE ON sessions
BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;
"""

# --narrow: a table whose rebuild is cheap (an INTEGER key, no UNIQUE), one index: the fixed
# costs of the command weigh the most there.
NARROW_MIGRATION = """\
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TRIGGER sessions_audit AFTER DELETE ON sessions
BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;
"""


CODE = '''"""The application's one query of sessions."""
import sqlite3


def sessions_of(db: sqlite3.Connection, user_id: int) -> list[tuple[str, str]]:
    return db.execute("SELECT id, token FROM sessions WHERE user_id = ?", (user_id,)).fetchall()
'''

BARE = """\
PRAGMA foreign_keys=OFF;
BEGIN IMMEDIATE;
CREATE TABLE new_sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO new_sessions (rowid, id, user_id, token, created_at, expires_at)
    SELECT rowid, id, user_id, token, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE new_sessions RENAME TO sessions;
CREATE INDEX idx_sessions_user_id ON sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
CREATE TRIGGER sessions_audit AFTER DELETE ON sessions
BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;
PRAGMA foreign_key_check;
COMMIT;
"""

BARE_PY = """\
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.executescript(sys.argv[2])
conn.close()
"""


def bare_script(narrow: bool) -> str:
    """Return the bare procedure for the table `build` made."""
    if not narrow:
        return BARE
    return (
        BARE.replace("id TEXT PRIMARY KEY", "id INTEGER PRIMARY KEY")
        .replace("token TEXT NOT NULL UNIQUE", "token TEXT NOT NULL")
        .replace("CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);\n", "")
    )


def build(root: Path, rows: int, journal_mode: str, narrow: bool = False) -> None:
    """Write the project at `root`: pyproject, migration, code and the drifted database."""
    migration = NARROW_MIGRATION if narrow else MIGRATION
    shutil.rmtree(root, ignore_errors=True)
    (root / "migrations").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.dbheal]\ndatabase = "app.db"\nmigrations = "migrations"\n', encoding="utf-8"
    )
    (root / "migrations" / "001_sessions.sql").write_text(migration, encoding="utf-8")
    (root / "app.py").write_text(CODE, encoding="utf-8")
    conn = sqlite3.connect(root / "app.db", isolation_level=None)
    try:
        conn.execute(f"PRAGMA journal_mode={journal_mode}")
        conn.executescript(migration.replace("user_id INTEGER", "user_id TEXT"))
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO sessions (id, user_id, token, created_at, expires_at) "
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
            f"SELECT {'i' if narrow else 'lower(hex(randomblob(8)))'}, CAST(1 + i % 5000 AS TEXT), "
            "'tok-' || lower(hex(randomblob(12))), 1700000000 + i, 1701000000 + i FROM c",
            (rows,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def fresh(base: Path, run: Path) -> Path:
    """Copy the project `base` to `run` (untimed) and return the copy."""
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(base, run)
    return run


def page_cache_kib(db: Path) -> int:
    """Return the page cache dbheal gives this rebuild (0: SQLite's default)."""
    sys.path.insert(0, str(REPO))
    from dbheal_lsp.fixes.schema_run import rebuild_cache
    from dbheal_lsp.model import MigrationPlan

    plan = MigrationPlan("", "change_type", "", "", "sessions", (), "")
    return rebuild_cache(db, plan)[0]


def run_bare(root: Path, cache_kib: int = 0, narrow: bool = False) -> None:
    db = str(root / "app.db")
    script = (f"PRAGMA cache_size = -{cache_kib};\n" if cache_kib else "") + bare_script(narrow)
    shell = shutil.which("sqlite3")
    command = [shell, "-bail", db] if shell else [sys.executable, "-c", BARE_PY, db, script]
    done = subprocess.run(
        command,
        input=script if shell else None,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or done.stdout.strip():
        raise RuntimeError(f"bare rebuild failed: {done.stdout}{done.stderr}")


def run_dbheal(root: Path) -> str:
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbheal"), "heal", str(root), "--yes"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done.stdout + done.stderr


def inspect(root: Path, rows: int) -> str:
    """Return "" when the rebuild is complete, else what is wrong."""
    conn = sqlite3.connect(root / "app.db")
    try:
        declared = conn.execute(
            "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
        ).fetchone()
        count, integers = conn.execute(
            "SELECT count(*), sum(typeof(user_id) = 'integer') FROM sessions"
        ).fetchone()
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    problems = []
    if declared != ("INTEGER",):
        problems.append(f"user_id is {declared}")
    if (count, integers) != (rows, rows):
        problems.append(f"{count} rows, {integers} integers")
    if not {"idx_sessions_user_id", "sessions_audit"} <= names:
        problems.append("an index or the trigger is missing")
    return "; ".join(problems)


@dataclass
class Mode:
    """The figures of one journal mode."""

    journal_mode: str
    cache_kib: int = 0
    bare: list[float] = field(default_factory=list)  # with dbheal's page cache
    bare_default: list[float] = field(default_factory=list)  # with SQLite's default cache
    dbheal: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.dbheal) / statistics.median(self.bare)


def timed(function: object) -> float:
    start = time.perf_counter()
    function()  # type: ignore[operator]
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="delete,wal", help="journal modes, comma-separated")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--narrow",
        action="store_true",
        help="an INTEGER key, no UNIQUE and one index: a cheap rebuild, where fixed costs weigh",
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="dbheal-bench-heal-"))
    modes = [Mode(m.strip()) for m in args.modes.split(",") if m.strip()]
    failed = ""
    try:
        for mode in modes:
            base = work / f"base-{mode.journal_mode}"
            print(f"building {args.rows:,} rows ({mode.journal_mode}) ...", file=sys.stderr)
            build(base, args.rows, mode.journal_mode, args.narrow)
            mode.cache_kib = page_cache_kib(base / "app.db")
            run = work / "run"
            for round_no in range(args.repeat):
                print(f"{mode.journal_mode}: round {round_no + 1}/{args.repeat}", file=sys.stderr)
                for times, cache in ((mode.bare, mode.cache_kib), (mode.bare_default, 0)):
                    root = fresh(base, run)
                    times.append(timed(lambda r=root, c=cache: run_bare(r, c, args.narrow)))
                    problem = inspect(root, args.rows)
                    if problem:
                        failed = f"bare ({mode.journal_mode}): {problem}"
                root = fresh(base, run)
                start = time.perf_counter()
                output = run_dbheal(root)
                mode.dbheal.append(time.perf_counter() - start)
                problem = inspect(root, args.rows)
                if problem:
                    failed = f"dbheal ({mode.journal_mode}): {problem}\n{output}"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        f"`dbheal heal --yes`: sessions.user_id TEXT -> INTEGER, {args.rows:,} rows "
        f"({'narrow table' if args.narrow else 'the design table'}), indexes and a trigger; "
        f"median of {args.repeat} (SQLite {sqlite3.sqlite_version})",
        "",
        "| journal mode | bare SQL rebuild (s) | dbheal heal --yes (s) | ratio | ratio of the "
        "best runs | bare, SQLite's default page cache (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode in modes:
        lines.append(
            f"| {mode.journal_mode} | {statistics.median(mode.bare):.2f} | "
            f"{statistics.median(mode.dbheal):.2f} | {mode.ratio:.2f} | "
            f"{min(mode.dbheal) / min(mode.bare):.2f} | "
            f"{statistics.median(mode.bare_default):.2f} |"
        )
    lines += [
        "",
        "The bare rebuild runs with the page cache dbheal gives its own rebuild "
        f"({', '.join(f'{m.journal_mode}: {m.cache_kib // 1024} MiB' for m in modes)}), so that "
        "the ratio is dbheal's own cost; the last column is the same procedure with SQLite's "
        "default cache.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    DEFAULT_RESULTS.mkdir(exist_ok=True)
    name = "heal-narrow.md" if args.narrow else "heal.md"
    (DEFAULT_RESULTS / name).write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"rows": args.rows, "modes": [asdict(m) | {"ratio": m.ratio} for m in modes]},
                indent=2,
            ),
            encoding="utf-8",
        )
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

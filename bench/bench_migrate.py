"""Time changing a column's type, and see what each tool does with lossy values and dependents.

The database: ``sessions`` with 1,000,000 rows (``--rows``) whose ``user_id`` is TEXT and should
be INTEGER, with an index on ``user_id``, an AFTER UPDATE trigger, a view over it, an
AUTOINCREMENT key, and ``events`` (a tenth as many rows) whose foreign key points at it. Each
tool changes ``sessions.user_id`` to INTEGER on a fresh copy of the same database file:

- ``floor``: the bare SQL of SQLite's rebuild procedure, typed by hand (no checks at all);
- ``dbheal``: ``change_type_plan`` + ``apply_plan``, with its lossy-value count, its row-by-row
  verification of the copy, ``quick_check`` and ``foreign_key_check``;
- ``dbheal + backup``: the same after ``sqlite3.Connection.backup`` of the file (timed apart);
- ``sqlite-utils``: ``Table.transform(types={"user_id": int})`` (its Python API);
- ``alembic``: ``batch_alter_table`` + ``alter_column(type_=Integer)`` on a SQLAlchemy engine.

A tool that fails on the full schema is timed again on a copy without the view, and marked.
Each time is the median of ``--repeat`` runs (default 3), taken in rounds (every tool once per
round) so that a slow moment of the machine does not fall on one tool only. Copying the file is
not timed. Then each tool runs once more on a small database whose ``user_id`` holds 'abc', to
record what it does with a value that is not an integer, and what is left of the index, the
trigger, the view, the foreign key and the AUTOINCREMENT counter afterwards.

Also timed: ``apply_plan`` of a migration-like CREATE TABLE (with an index) on the large file.

Usage (from the repository root)::

    .venv/bin/python bench/bench_migrate.py
    .venv/bin/python bench/bench_migrate.py --rows 100000 --repeat 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# bench/run.py, found because a script's own folder is first on sys.path.
from run import cpu_model  # noqa: E402

from dbheal_lsp.databases.sqlite.rebuild import change_type_plan  # noqa: E402
from dbheal_lsp.fixes.apply import apply_plan  # noqa: E402
from dbheal_lsp.model import MigrationPlan, PlanStep  # noqa: E402

VIEW = (
    "CREATE VIEW active_sessions AS "
    "SELECT id, user_id, token FROM sessions WHERE expires_at > '2024-06-01'"
)
SCHEMA = f"""
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE sessions (  -- user_id should be INTEGER
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT,
    token TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at TEXT,
    score REAL
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE TABLE audit (id INTEGER PRIMARY KEY, session_id INTEGER, what TEXT);
CREATE TRIGGER sessions_touch AFTER UPDATE OF score ON sessions
BEGIN INSERT INTO audit (session_id, what) VALUES (new.id, 'score'); END;
{VIEW};
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL
);
"""

# The rebuild procedure of https://www.sqlite.org/lang_altertable.html section 7, by hand.
FLOOR_STEPS = (
    """CREATE TABLE new_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    token TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at TEXT,
    score REAL
)""",
    "INSERT INTO new_sessions (id, user_id, token, created_at, expires_at, score) "
    "SELECT id, user_id, token, created_at, expires_at, score FROM sessions",
    "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence "
    "WHERE name IN ('sessions', 'new_sessions')) WHERE name = 'new_sessions'",
    "DROP VIEW active_sessions",
    "DROP TABLE sessions",
    "ALTER TABLE new_sessions RENAME TO sessions",
    "CREATE INDEX sessions_user_id ON sessions(user_id)",
    "CREATE TRIGGER sessions_touch AFTER UPDATE OF score ON sessions\n"
    "BEGIN INSERT INTO audit (session_id, what) VALUES (new.id, 'score'); END",
    VIEW,
)

CREATE_PLAN_SQL = (
    """CREATE TABLE invoices_{n} (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'EUR',
    issued_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)""",
    "CREATE INDEX idx_invoices_{n}_session ON invoices_{n}(session_id)",
)


def build(path: Path, rows: int, *, view: bool = True, lossy: bool = False) -> None:
    """Write the benchmark database at `path` (`lossy`: one user_id is 'abc')."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA if view else SCHEMA.replace(VIEW + ";", ""))
    conn.execute("BEGIN")
    users = max(rows // 200, 2)
    conn.execute(
        "INSERT INTO users (id, email) WITH RECURSIVE c(i) AS "
        "(SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        "SELECT i, 'user' || i || '@example.com' FROM c",
        (users,),
    )
    conn.execute(
        "INSERT INTO sessions (user_id, token, created_at, expires_at, score) "
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        "SELECT CAST(1 + i % ? AS TEXT), hex(randomblob(16)), "
        "'2024-05-' || printf('%02d', 1 + i % 28) || ' 12:00:00', "
        "'2024-06-' || printf('%02d', 1 + i % 28), (i % 1000) / 1000.0 FROM c",
        (rows, users),
    )
    conn.execute(
        "INSERT INTO events (session_id, kind) SELECT id, 'login' FROM sessions WHERE id % 10 = 0"
    )
    # A few deleted sessions: the AUTOINCREMENT counter is above the largest id.
    conn.execute("DELETE FROM events WHERE session_id > (SELECT max(id) - 5 FROM sessions)")
    conn.execute("DELETE FROM sessions WHERE id > (SELECT max(id) - 5 FROM sessions)")
    if lossy:
        conn.execute("UPDATE sessions SET user_id = 'abc' WHERE id = 2")
    conn.execute("COMMIT")
    conn.close()


# --- the tools --------------------------------------------------------------------------------


def run_floor(path: Path) -> str:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN IMMEDIATE")
        for sql in FLOOR_STEPS:
            conn.execute(sql)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            conn.execute("ROLLBACK")
            return f"foreign_key_check: {problems[:3]}"
        conn.execute("COMMIT")
        return "ok"
    finally:
        conn.close()


def run_dbheal(path: Path, on_lossy: str = "refuse") -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        plan = change_type_plan(conn, "sessions", "user_id", "INTEGER")
    finally:
        conn.close()
    outcome = apply_plan(path, plan, on_lossy=on_lossy)
    return "ok" if outcome.applied else outcome.message


def run_backup(path: Path) -> None:
    target = path.with_name(path.name + ".backup")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def run_sqlite_utils(path: Path) -> str:
    import sqlite_utils

    db = sqlite_utils.Database(path)
    try:
        db["sessions"].transform(types={"user_id": int})  # type: ignore[union-attr]
    finally:
        db.close()
    return "ok"


def run_alembic(path: Path) -> str:
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            operations = Operations(MigrationContext.configure(conn))
            with operations.batch_alter_table("sessions") as batch:
                batch.alter_column("user_id", type_=sa.Integer())
    finally:
        engine.dispose()
    return "ok"


TOOLS: dict[str, Callable[[Path], str]] = {
    "floor (bare SQL procedure)": run_floor,
    "dbheal apply_plan": run_dbheal,
    "sqlite-utils transform": run_sqlite_utils,
    "alembic batch_alter_table": run_alembic,
}


# --- what is left afterwards ------------------------------------------------------------------


def inspect(path: Path) -> dict[str, str]:
    """Return what became of the column, the 'abc' value and the dependents of sessions."""
    conn = sqlite3.connect(path)
    try:
        master = {
            name: (kind, sql or "")
            for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master")
        }
        declared = conn.execute(
            "SELECT type FROM pragma_table_info('sessions') WHERE name = 'user_id'"
        ).fetchone()
        abc = conn.execute("SELECT quote(user_id) FROM sessions WHERE id = 2").fetchone()
        try:
            conn.execute("SELECT count(*) FROM active_sessions").fetchone()
            view = "kept" if "active_sessions" in master else "lost"
        except sqlite3.Error as exc:
            view = f"broken ({exc})" if "active_sessions" in master else "lost"
        fk = conn.execute(
            "SELECT count(*) FROM pragma_foreign_key_list('events') WHERE \"table\" = 'sessions'"
        ).fetchone()[0]
        fk_errors = conn.execute("PRAGMA foreign_key_check(events)").fetchall()
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sessions'").fetchone()
        max_id = conn.execute("SELECT max(id) FROM sessions").fetchone()[0]
        leftovers = sorted(
            n
            for n, (kind, _) in master.items()
            if kind == "table"
            and n not in ("users", "sessions", "audit", "events")
            and n != "sqlite_sequence"
        )
        return {
            "user_id type": declared[0] if declared else "?",
            "'abc' becomes": abc[0] if abc else "row gone",
            "index": "kept" if "sessions_user_id" in master else "lost",
            "trigger": "kept" if "sessions_touch" in master else "lost",
            "view": view,
            "FK from events": ("kept" if fk else "lost") + (" (violated)" if fk_errors else ""),
            "AUTOINCREMENT": (
                "kept"
                if "AUTOINCREMENT" in master["sessions"][1].upper() and seq and seq[0] > max_id
                else "lost"
            ),
            "left behind": ", ".join(leftovers) or "-",
        }
    finally:
        conn.close()


@dataclass
class Result:
    tool: str
    times: list[float] = field(default_factory=list)
    backup_times: list[float] = field(default_factory=list)
    outcome: str = ""
    without_view: bool = False  # timed on the schema without the view: it fails with it
    after: dict[str, str] = field(default_factory=dict)
    lossy: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")


def machine() -> dict[str, str]:
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": f"{platform.system()} {platform.release()}",
    }


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="dbheal-bench-migrate-"))
    try:
        base, base_no_view = work / "base.db", work / "base-noview.db"
        print(f"building {args.rows:,} rows in {work} ...", file=sys.stderr)
        build(base, args.rows)
        build(base_no_view, args.rows, view=False)
        size = base.stat().st_size
        results = {name: Result(name) for name in TOOLS}
        results["dbheal apply_plan + backup"] = Result("dbheal apply_plan + backup")
        db = work / "run.db"

        def fresh(source: Path) -> Path:
            for suffix in ("", "-journal", "-wal", "-shm", ".backup"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, db)
            return db

        for round_no in range(args.repeat):
            print(f"round {round_no + 1}/{args.repeat}", file=sys.stderr)
            for name, tool in TOOLS.items():
                result = results[name]
                source = base_no_view if result.without_view else base
                try:
                    seconds, outcome = timed(lambda t=tool, s=source: t(fresh(s)))  # type: ignore[misc]
                except Exception as exc:  # a peer failing is a finding, not a crash
                    result.outcome = f"fails: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                    result.without_view = True
                    seconds, outcome = timed(lambda t=tool: t(fresh(base_no_view)))  # type: ignore[misc]
                result.times.append(seconds)
                if round_no == 0:
                    result.outcome = result.outcome or str(outcome)
                    result.after = inspect(db)
            both = results["dbheal apply_plan + backup"]
            fresh(base)
            backup_seconds, _ = timed(lambda: run_backup(db))
            seconds, outcome = timed(lambda: run_dbheal(db))
            both.backup_times.append(backup_seconds)
            both.times.append(backup_seconds + seconds)
            both.outcome = str(outcome)
            both.after = results["dbheal apply_plan"].after

        # Lossy values and dependents, on a small database with 'abc' in user_id.
        small = work / "small.db"
        build(small, 1000, lossy=True)
        small_no_view = work / "small-noview.db"
        build(small_no_view, 1000, view=False, lossy=True)
        lossy_runs: dict[str, tuple[Callable[[Path], str], Path]] = {
            **{name: (tool, small) for name, tool in TOOLS.items()},
            "alembic batch_alter_table (without the view)": (run_alembic, small_no_view),
            "dbheal on_lossy=null": (lambda p: run_dbheal(p, "null"), small),
            "dbheal on_lossy=keep": (lambda p: run_dbheal(p, "keep"), small),
        }
        lossy_findings: dict[str, dict[str, str]] = {}
        for name, (tool, source) in lossy_runs.items():
            try:
                outcome = tool(fresh(source))
            except Exception as exc:
                outcome = f"fails: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            lossy_findings[name] = {"outcome": outcome, **inspect(db)}
            if source == small_no_view:
                lossy_findings[name]["view"] = "(none)"

        # A migration-like CREATE TABLE with an index, applied to the large file.
        fresh(base)
        create_times = []
        for n in range(20):
            conn = sqlite3.connect(db)
            version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
            conn.close()
            plan = MigrationPlan(
                id=f"create_table:invoices_{n}",
                kind="create_table",
                title=f"Create invoices_{n}",
                description="",
                table=f"invoices_{n}",
                steps=tuple(PlanStep(sql.format(n=n)) for sql in CREATE_PLAN_SQL),
                expected="",
                schema_version=version,
            )
            seconds, outcome = timed(lambda p=plan: apply_plan(db, p))  # type: ignore[misc]
            assert getattr(outcome, "applied", False), outcome
            create_times.append(seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = results["floor (bare SQL procedure)"].median
    info = machine()
    print(
        f"\nChanging sessions.user_id TEXT -> INTEGER, {args.rows:,} rows ({size / 1e6:.0f} MB), "
        f"median of {args.repeat}; nproc {info['nproc']}, {info['cpu']}, "
        f"SQLite {info['sqlite']}, Python {info['python']}\n"
    )
    print(
        "| tool | median (s) | ratio to floor | outcome | index | trigger | view | FK from events | AUTOINCREMENT |"
    )
    print("| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |")
    for result in results.values():
        after = result.after
        note = " (timed without the view)" if result.without_view else ""
        extra = (
            f" (backup {statistics.median(result.backup_times):.2f} s)"
            if result.backup_times
            else ""
        )
        print(
            f"| {result.tool}{note} | {result.median:.2f}{extra} | {result.median / floor:.2f} | "
            f"{result.outcome} | {after.get('index', '')} | {after.get('trigger', '')} | "
            f"{'fails with it' if result.without_view else after.get('view', '')} | "
            f"{after.get('FK from events', '')} | "
            f"{after.get('AUTOINCREMENT', '')} |"
        )
    print("\nWith 'abc' in one user_id (1,000 rows):\n")
    print("| tool | outcome | 'abc' becomes | user_id type | trigger | view | left behind |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, found in lossy_findings.items():
        print(
            f"| {name} | {found['outcome']} | {found[chr(39) + 'abc' + chr(39) + ' becomes']} | "
            f"{found['user_id type']} | {found['trigger']} | {found['view']} | "
            f"{found['left behind']} |"
        )
    create_ms = statistics.median(create_times) * 1000
    print(
        f"\napply_plan of a CREATE TABLE + CREATE INDEX on the {size / 1e6:.0f} MB file: "
        f"median {create_ms:.1f} ms of 20 (min {min(create_times) * 1000:.1f}, "
        f"max {max(create_times) * 1000:.1f})"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "rows": args.rows,
                    "bytes": size,
                    "results": [asdict(r) | {"median": r.median} for r in results.values()],
                    "lossy": lossy_findings,
                    "create_table_seconds": create_times,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

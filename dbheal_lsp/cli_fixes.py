"""The fix commands of `dbheal`: fix, migrate (list | plan | apply), heal, history, rollback.

Each prints what it will do before it does it; anything that writes (`fix --apply`, `heal`,
`migrate apply`, `rollback`) asks first on a terminal, and without one refuses (exit 2) unless
--yes says so. Exit status: 0 done (or nothing to do), 1 something was
refused or failed, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.cli import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_OK,
    UsageError,
    add_database_argument,
    add_project_arguments,
    database_label,
    database_notes,
    load_project_from,
    write,
)
from dbheal_lsp.model import (
    CheckResult,
    CodeFix,
    IssueType,
    LossyReport,
    MigrationPlan,
    TextEdit,
    VerifyReport,
)

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.fixes.orchestrator import FixEngine, FixOutcome
    from dbheal_lsp.fixes.state import StateStore
    from dbheal_lsp.records import FixRecord, RuntimeEvent

ON_LOSSY = ("refuse", "null", "keep", "abort")
DEFAULT_LOCK_TIMEOUT = 5.0
# What a change needs free on the database's device beyond twice its size (the backup, the
# rollback journal): SQLite's own pages, the state file, a migration file.
_SPACE_MARGIN = 256 * 1024


COMMANDS = frozenset({"fix", "migrate", "heal", "history", "rollback"})


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the fix, migrate, heal, history and rollback commands to the `dbheal` parser."""
    fix = commands.add_parser(
        "fix",
        help="show the code fixes as diffs; --apply writes them (asks first unless --yes)",
        description="Check PATHS and print every code fix (cast removal, parameterized "
        "queries, did-you-mean names) as a unified diff. With --apply, ask, then write them, "
        "each file backed up first; without a terminal, --apply needs --yes.",
    )
    add_project_arguments(fix)
    fix.add_argument("--apply", action="store_true", help="write the fixes (asks first)")
    fix.add_argument("--yes", action="store_true", help="with --apply: write without asking")
    fix.add_argument("--only", metavar="TYPE", help="only fixes of this issue type")

    migrate = commands.add_parser(
        "migrate",
        help="schema fixes: list the queue, show a plan, apply one",
        description="Schema fixes wait in a queue (in .dbheal/state.sqlite): `list` checks the "
        "project and queues the fix of every issue; `plan ID` prints its SQL and a dry run; "
        "`apply ID` applies it in one transaction, verified and backed up.",
    )
    migrate.add_argument("action", choices=("list", "plan", "apply"))
    migrate.add_argument("id", nargs="?", type=int, help="the queue entry (from `list`)")
    add_database_argument(migrate)
    migrate.add_argument("--migrations", type=Path, help="the folder of migration *.sql files")
    migrate.add_argument("--dry-run", action="store_true", help="with apply: only the dry run")
    _add_apply_options(migrate)

    heal = commands.add_parser(
        "heal",
        help="check, then apply every safe schema fix (with its code fix)",
        description="Check PATHS, then apply every safe fix: tables and columns from the "
        "migrations that define them, missing indexes, and lossless type changes with the code "
        "fixes they make right. Asks first unless --yes.",
    )
    add_project_arguments(heal)
    _add_apply_options(heal)

    history = commands.add_parser("history", help="the fixes applied, with their verification")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.add_argument(
        "--prune", action="store_true", help="delete old backups (never rollback-able ones)"
    )
    history.add_argument("--limit", type=int, default=50, help="how many (default 50)")

    rollback = commands.add_parser(
        "rollback",
        help="undo a fix by its inverse change (rows written since stay) and restore its files",
    )
    rollback.add_argument("fix_id", help="the fix, as `dbheal history` names it")
    rollback.add_argument("--yes", action="store_true", help="do not ask")
    rollback.add_argument(
        "--restore-backup",
        action="store_true",
        help="restore the database file as it was before the fix, even if that drops rows "
        "written since (they are kept in the rollback's own backup)",
    )


def _add_apply_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="apply without asking")
    parser.add_argument(
        "--on-lossy",
        choices=ON_LOSSY,
        default="refuse",
        help="a type change that would lose values: refuse (default), turn them to NULL, "
        "keep them as they are, or abort",
    )
    parser.add_argument(
        "--integrity", action="store_true", help="run the full PRAGMA integrity_check"
    )
    parser.add_argument(
        "--no-migration-file", action="store_true", help="do not write a migration file"
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for a lock another connection (the app) holds on the database "
        f"(default {DEFAULT_LOCK_TIMEOUT:g})",
    )


def run(args: argparse.Namespace) -> int:
    """Run one of the fix commands and return its exit status."""
    from dbheal_lsp.analysis.live_db import SchemaError
    from dbheal_lsp.fixes.orchestrator import FixError
    from dbheal_lsp.fixes.state import StateError

    if getattr(args, "lock_timeout", 0.0) < 0:
        raise UsageError("--lock-timeout must be 0 or more seconds")
    try:
        if args.command == "fix":
            return _run_fix(args)
        if args.command == "migrate":
            return _run_migrate(args)
        if args.command == "heal":
            return _run_heal(args)
        if args.command == "history":
            return _run_history(args)
        if args.command == "rollback":
            return _run_rollback(args)
    except (FixError, SchemaError, StateError) as exc:
        raise UsageError(str(exc)) from None
    return EXIT_ERROR


def preflight(project: Project, lock_timeout: float) -> None:
    """Refuse, before anything is changed, what would make a change to the database fail:
    a read-only folder, too little space, a corrupt file, a lock another connection holds
    for longer than `lock_timeout` seconds. Raise UsageError with one line."""
    import os
    import shutil

    from dbheal_lsp.cli import shown_path

    database = project.config.database
    if database is None or not database.is_file():
        return  # the engine says so in its own words
    shown = shown_path(database)
    for folder in dict.fromkeys((project.config.root, database.parent)):
        # SQLite writes its journal next to the database, dbheal its backups under the root.
        if not os.access(folder, os.W_OK):
            raise UsageError(
                f"cannot write in {shown_path(folder) or '.'} (read-only file system or no "
                f"permission): nothing changed in {shown}"
            )
    size = database.stat().st_size
    free = shutil.disk_usage(database.parent).free
    if free < 2 * size + _SPACE_MARGIN:
        raise UsageError(
            f"not enough free space to change {shown} safely: {free // 1024} KiB free, "
            f"{(2 * size + _SPACE_MARGIN) // 1024} KiB needed (a backup and a journal): "
            "nothing changed"
        )
    try:
        conn = sqlite3.connect(os.fspath(database), timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        raise UsageError(f"cannot open {shown}: {exc}") from None
    try:
        if not _try_write_lock(conn, shown):
            # Said once: then SQLite's own busy handler waits for the rest of the time.
            print(
                f"dbheal: waiting for the lock held by another connection on {shown} "
                f"(up to {lock_timeout:g} s, see --lock-timeout)",
                file=sys.stderr,
                flush=True,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
            if not _try_write_lock(conn, shown):
                raise UsageError(
                    f"{shown} is locked by another connection (waited {lock_timeout:g} s): "
                    "nothing changed; try again when it is done, or wait longer with "
                    "--lock-timeout SECONDS"
                )
    finally:
        conn.close()


def _try_write_lock(conn: sqlite3.Connection, shown: str) -> bool:
    """Take and release the write lock and read the schema; False when another holds it."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return False
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            raise UsageError(f"{shown} is corrupt ({exc}): nothing changed") from None
        if "readonly" in text or "read-only" in text:
            raise UsageError(f"{shown} is read-only ({exc}): nothing changed") from None
        raise UsageError(f"cannot change {shown}: {exc}") from None
    return True


def _name_database(project: Project) -> None:
    """Say which database the command uses (first line), and what to know about it."""
    write(f"Database: {database_label(project)}\n")
    for note in database_notes(project):
        print(f"dbheal: note: {note}", file=sys.stderr, flush=True)


def _engine(project: Project, args: argparse.Namespace) -> FixEngine:
    from dbheal_lsp.fixes.orchestrator import FixEngine, FixSettings

    settings = FixSettings(
        on_lossy=getattr(args, "on_lossy", "refuse"),
        full_integrity=getattr(args, "integrity", False),
        write_migrations=not getattr(args, "no_migration_file", False),
        lock_timeout=getattr(args, "lock_timeout", DEFAULT_LOCK_TIMEOUT),
    )
    return FixEngine(project, settings)


def _check(project: Project, paths: Sequence[Path] | None) -> CheckResult:
    return project.check_paths(list(paths or [project.config.root]))


def _ask(question: str, args: argparse.Namespace) -> bool:
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — no terminal to ask on: pass --yes to go ahead")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


# --- dbheal fix ---------------------------------------------------------------------------------


def _run_fix(args: argparse.Namespace) -> int:
    from dbheal_lsp.fixes.code import apply_edits, unified_diff

    project = load_project_from(args)  # code fixes write only code: a guess is said, not refused
    _name_database(project)
    engine = _engine(project, args)
    only = IssueType.parse(args.only) if args.only else None
    result = _check(project, args.paths)
    by_file: dict[str, list[CodeFix]] = {}
    seen: set[str] = set()
    for issue in result.issues:
        if only is not None and issue.type is not only:
            continue
        for fix in engine.code_fixes(issue):
            if fix.id not in seen:
                seen.add(fix.id)
                by_file.setdefault(fix.path, []).append(fix)
            break
    if not by_file:
        write("No code fixes to make.\n")
        return EXIT_OK
    count = sum(len(f) for f in by_file.values())
    # The diffs come first, with --apply too: the question is about what the user has seen.
    for path, fixes in by_file.items():
        source = engine.read_source(path)
        edits = _non_overlapping([e for f in fixes for e in f.edits])
        for fix in fixes:
            write(f"# {path}: {fix.title}\n")
        write(unified_diff(path, source, apply_edits(source, edits)) + "\n")
    if not args.apply:
        write(f"{count} fixes in {len(by_file)} files; run with --apply to write them.\n")
        return EXIT_OK
    if not _ask(f"Write {count} fixes in {len(by_file)} files?", args):
        write("Nothing written.\n")
        return EXIT_OK
    applied = failed = 0
    for path in by_file:
        applied_here, failed_here = _apply_file_fixes(engine, path, only)
        applied += applied_here
        failed += failed_here
    write(f"Applied {applied} fixes in {len(by_file)} files (backups under .dbheal/backups/).\n")
    return EXIT_OK if not failed else EXIT_FOUND


def _apply_file_fixes(engine: FixEngine, path: str, only: IssueType | None) -> tuple[int, int]:
    """Apply the fixes of one file one at a time, planning each against the file as it is."""
    applied = failed = 0
    tried: set[str] = set()
    for _ in range(200):
        source = engine.read_source(path)
        result = engine.project.check_source(path, source)
        fix = next(
            (
                f
                for issue in result.issues
                if only is None or issue.type is only
                for f in engine.code_fixes(issue, source)[:1]
                if f.id not in tried
            ),
            None,
        )
        if fix is None:
            break
        tried.add(fix.id)
        outcome = engine.apply_code(fix)
        write(_outcome_line(outcome) + "\n")
        if outcome.diff:
            write(outcome.diff + "\n")
        applied += outcome.applied
        failed += not outcome.applied
    return applied, failed


def _non_overlapping(edits: list[TextEdit]) -> list[TextEdit]:
    """Return `edits` without those that overlap an earlier one (one fix per statement)."""
    chosen: list[TextEdit] = []
    for edit in sorted(edits, key=lambda e: e.span):
        if chosen and (edit.span.line, edit.span.column) < (
            chosen[-1].span.end_line,
            chosen[-1].span.end_column,
        ):
            continue
        chosen.append(edit)
    return chosen


# --- dbheal migrate -----------------------------------------------------------------------------


def _run_migrate(args: argparse.Namespace) -> int:
    args.paths = []
    writes = args.action == "apply" and not args.dry_run
    project = load_project_from(args, writes=writes)
    _name_database(project)
    if writes:
        preflight(project, args.lock_timeout)
    engine = _engine(project, args)
    if args.action == "list":
        return _migrate_list(engine)
    if args.id is None:
        raise UsageError(f"migrate {args.action} needs the ID of a queued migration")
    entry, plan = engine.queued_plan(args.id)  # made again if the schema changed since
    if entry.status == "done elsewhere":
        write(
            f"Nothing to apply: migration {entry.id} ({entry.title}) was done elsewhere or "
            "is not needed any more.\n"
        )
        return EXIT_OK
    if args.action == "plan" or args.dry_run:
        _print_plan(plan)
        _print_dry_run(*engine.dry_run(plan))  # re-analysis of the code included
        return EXIT_OK
    _print_plan(plan)
    if entry.status != "queued":
        raise UsageError(f"migration {entry.id} is {entry.status}, not queued")
    if not _ask(f"Apply migration {entry.id}: {plan.title}?", args):
        write("Nothing applied.\n")
        return EXIT_OK
    outcome = engine.apply_schema(plan, on_lossy=args.on_lossy)
    engine.store.set_status(entry.id, "applied" if outcome.applied else "failed")
    _print_outcome(outcome)
    return EXIT_OK if outcome.applied else EXIT_FOUND


def _migrate_list(engine: FixEngine) -> int:
    result = _check(engine.project, None)
    before = engine.store.queued()
    # Queued entries first plan themselves again (or leave, when done meanwhile), so that a
    # fix found again joins its entry instead of queueing twice.
    still = {e.id for e in engine.refresh_queue(result)}
    for gone in before:
        if gone.id not in still:
            now = engine.store.entry(gone.id)
            status = now.status if now is not None else "gone"
            write(f"Left the queue: {gone.id} ({status}): {gone.title}\n")
    for plan, severity in engine.fresh_plans(result):
        engine.enqueue(plan, severity)
    entries = engine.store.queued()
    if not entries:
        write("No schema fixes queued.\n")
        return EXIT_OK
    write(f"{'ID':>4}  {'severity':<8}  {'kind':<12}  title\n")
    for entry in entries:
        write(f"{entry.id:>4}  {entry.severity.value:<8}  {entry.kind:<12}  {entry.title}\n")
    write("\n`dbheal migrate plan ID` shows one; `dbheal migrate apply ID` applies it.\n")
    return EXIT_OK


def _print_plan(plan: MigrationPlan) -> None:
    write(f"{plan.title}\n{plan.description}\nExpected: {plan.expected}\n\n{plan.sql}\n\n")


def _print_dry_run(lossy: LossyReport | None, verify: VerifyReport) -> None:
    if lossy is not None:
        write(_lossy_text(lossy) + "\n")
    status = "would succeed" if verify.ok else "would FAIL"
    write(f"Dry run: {status}\n{_verify_text(verify)}\n")


def _lossy_text(lossy: LossyReport) -> str:
    if lossy.lossless:
        return f"All {lossy.total_rows} values of {lossy.table}.{lossy.column} convert to {lossy.new_type} without loss."
    rowids = ", ".join(str(r) for r in lossy.first_rowids)
    examples = ", ".join(lossy.examples)
    return (
        f"{lossy.lossy_count} of {lossy.total_rows} values of {lossy.table}.{lossy.column} would "
        f"not convert to {lossy.new_type} without loss (rowids {rowids}: {examples}); "
        "choose --on-lossy=null or --on-lossy=keep to go ahead"
    )


def _verify_text(verify: VerifyReport) -> str:
    return "\n".join(
        f"  {'ok  ' if c.ok else 'FAIL'} {c.name}{': ' + c.detail if c.detail else ''}"
        for c in verify.checks
    )


def _outcome_line(outcome: FixOutcome) -> str:
    fix_id = outcome.record.id if outcome.record else "-"
    return f"[{'applied' if outcome.applied else 'not applied'}] {outcome.message} (fix {fix_id})"


def _print_outcome(outcome: FixOutcome) -> None:
    write(_outcome_line(outcome) + "\n")
    if outcome.lossy is not None and not outcome.lossy.lossless:
        write(_lossy_text(outcome.lossy) + "\n")
    if outcome.verify.checks:
        write(_verify_text(outcome.verify) + "\n")
    if outcome.migration_file:
        write(f"  wrote {outcome.migration_file}\n")
    if outcome.diff:
        write(outcome.diff + "\n")


# --- dbheal heal --------------------------------------------------------------------------------


def _run_heal(args: argparse.Namespace) -> int:
    project = load_project_from(args, writes=True)
    _name_database(project)
    preflight(project, args.lock_timeout)
    engine = _engine(project, args)
    result = _check(project, args.paths)
    items = engine.heal_items(result)
    if not items:
        write("Nothing to heal.\n")
        return EXIT_OK
    safe = [i for i in items if i.safe or (not i.blocked and args.on_lossy in ("null", "keep"))]
    write("dbheal heal would apply:\n")
    for n, item in enumerate(items, 1):
        tag = ""
        if item.blocked:
            tag = "  [skipped: its dry run fails]"
        elif item not in safe:
            tag = "  [skipped: lossy; see --on-lossy]"
        extra = " + remove the cast it makes redundant" if item.with_code else ""
        write(f"  {n}. {item.plan.title}{extra} ({len(item.issues)} issue(s)){tag}\n")
        if item.lossy is not None and not item.lossy.lossless:
            write(f"     {_lossy_text(item.lossy)}\n")
        if item.blocked:
            write(f"     {item.blocked}\n")
    blocked = sum(1 for i in items if i.blocked)
    lossy = sum(1 for i in items if not i.blocked and i not in safe)
    if not safe:
        write("Nothing safe to apply.\n")
        return EXIT_FOUND
    if not _ask(f"Apply {len(safe)} fix(es)?", args):
        write("Nothing applied.\n")
        return EXIT_OK
    outcomes = engine.heal([replace(i, lossy=None) if i in safe else i for i in safe])
    for outcome in outcomes:
        _print_outcome(outcome)
    after = _check(project, args.paths)
    write("\n" + _heal_summary(len(items), outcomes, blocked, lossy))
    write(
        f"{len(result.issues)} issues before, {len(after.issues)} after; heal changes the "
        "schema only: `dbheal fix` shows the code fixes, the rest is for a person.\n"
    )
    return EXIT_OK if all(o.applied for o in outcomes) else EXIT_FOUND


def _heal_summary(listed: int, outcomes: Sequence[FixOutcome], blocked: int, lossy: int) -> str:
    """The line that ends `heal`: healed N of the M it listed, and why the others were not."""
    applied = sum(o.applied for o in outcomes)
    reasons = []
    if lossy:
        reasons.append(f"{lossy} would lose values (see --on-lossy)")
    if blocked:
        verb = "fails" if blocked == 1 else "fail"
        reasons.append(f"{blocked} {verb} a dry run (why is said above)")
    if len(outcomes) - applied:
        reasons.append(f"{len(outcomes) - applied} failed (see above)")
    why = f"; {listed - applied} not healed: {', '.join(reasons)}" if listed - applied else ""
    return f"Healed {applied} of {listed} listed{why}.\n"


# --- dbheal history / rollback ------------------------------------------------------------------


def _run_history(args: argparse.Namespace) -> int:
    from dbheal_lsp.config import find_root
    from dbheal_lsp.fixes.state import StateStore

    root = find_root(Path.cwd())
    store = StateStore(root)
    if args.prune:
        write(_prune_summary(store, root) + "\n")
        return EXIT_OK
    records = store.fixes(limit=args.limit)
    # The runtime wrapper's heals change the schema as much as a fix does: listed with them.
    heals = _runtime_heals(store, args.limit)
    if args.json:
        data = [_fix_json(r) for r in records] + [_heal_json(e) for e in heals]
        data.sort(key=lambda d: str(d["created_at"]), reverse=True)
        write(json.dumps(data[: args.limit], indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    if not records and not heals:
        write("No fixes recorded yet.\n")
        return EXIT_OK
    rows: list[tuple[str, list[str]]] = [(r.created_at, _fix_lines(r)) for r in records]
    rows.extend((e.time, [_heal_line(e)]) for e in heals)
    rows.sort(key=lambda row: row[0], reverse=True)
    for _, lines in rows[: args.limit]:
        write("".join(line + "\n" for line in lines))
    return EXIT_OK


def _prune_summary(store: StateStore, root: Path) -> str:
    """Prune the backups and say, in one line, how many went and how many stay."""
    from dbheal_lsp.fixes.backup import BACKUPS_DIR
    from dbheal_lsp.fixes.history import prune

    removed = prune(store, root, max_age_days=30, keep_per_database=20)
    folder = root.joinpath(*BACKUPS_DIR.parts)
    kept = sum(1 for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else 0
    return (
        f"Pruned {len(removed)} backups (older than 30 days or beyond 20 per database); "
        f"{kept} kept (see `dbheal history`)."
    )


def _fix_lines(r: FixRecord) -> list[str]:
    if r.rollback_of:
        note = f" (undoes {r.rollback_of})"
    elif r.rolled_back_at:
        note = f" (rolled back {r.rolled_back_at})"
    else:
        note = ""
    lines = [f"{r.id}  {r.created_at}  {r.outcome_label:<11} {r.kind:<7} {r.title}{note}"]
    if r.message and r.message != r.title:
        lines.append(f"    {r.message}")
    lines.extend(f"    {'ok  ' if c.ok else 'FAIL'} {c.name}" for c in r.verify.checks)
    return lines


def _runtime_heals(store: StateStore, limit: int) -> list[RuntimeEvent]:
    """The runtime events that changed the schema (not the errors it only reported)."""
    return [
        e
        for e in store.events(limit=max(limit, 0) * 4)
        if e.outcome.startswith("healed") and e.action not in ("", "none")
    ][: max(limit, 0)]


def _heal_id(event: RuntimeEvent) -> str:
    return f"runtime-{event.id}"


def _heal_line(e: RuntimeEvent) -> str:
    where = f"{e.path}:{e.line}" if e.path and e.line else (e.path or "?")
    return f"{_heal_id(e)}  {e.time}  {'healed':<11} {'runtime':<7} {e.action} (at {where})"


def _fix_json(r: FixRecord) -> dict[str, object]:
    from dbheal_lsp.codec import to_dict

    return {
        "id": r.id,
        "created_at": r.created_at,
        "kind": r.kind,
        "title": r.title,
        "outcome": r.outcome,
        "message": r.message,
        "issue_fingerprint": r.issue_fingerprint,
        "database": r.database,
        "files": list(r.files),
        "backup_dir": r.backup_dir,
        "verify": to_dict(r.verify),
        "rolled_back_at": r.rolled_back_at,
        "rollback_of": r.rollback_of,
        "plan": r.plan_text,
    }


def _heal_json(e: RuntimeEvent) -> dict[str, object]:
    """A runtime heal in the shape of a fix record (kind "runtime", outcome "healed")."""
    from dbheal_lsp.codec import to_dict

    return {
        "id": _heal_id(e),
        "created_at": e.time,
        "kind": "runtime",
        "title": e.action,
        "outcome": "healed",
        "message": e.outcome,
        "issue_fingerprint": "",
        "database": None,
        "files": [e.path] if e.path else [],
        "backup_dir": None,
        "verify": to_dict(VerifyReport()),
        "rolled_back_at": None,
        "rollback_of": None,
        "plan": "",
        "error": e.error,
        "statement": e.statement,
        "line": e.line,
    }


def _run_rollback(args: argparse.Namespace) -> int:
    from dbheal_lsp.config import find_root
    from dbheal_lsp.fixes.history import RollbackError, plan_rollback, rollback
    from dbheal_lsp.fixes.state import StateError, StateStore

    root = find_root(Path.cwd())
    store = StateStore(root)
    record = store.fix(args.fix_id)
    if record is None:
        raise UsageError(f"no fix {args.fix_id} in the history (see `dbheal history`)")
    restore = bool(args.restore_backup)
    try:
        # What will happen is shown before the question, and before --yes runs it.
        preview = plan_rollback(store, root, args.fix_id, restore_backup=restore)
    except (RollbackError, StateError, ValueError) as exc:
        print(f"dbheal: refused: {exc}", file=sys.stderr)
        return EXIT_FOUND
    write(preview.text(root) + "\n")
    if not _ask(f"Roll back {record.id}: {record.title}?", args):
        write("Nothing rolled back.\n")
        return EXIT_OK
    try:
        done = rollback(store, root, args.fix_id, lock_timeout=5.0, restore_backup=restore)
    except (RollbackError, StateError, ValueError) as exc:
        print(f"dbheal: refused: {exc}", file=sys.stderr)
        return EXIT_FOUND
    write(f"{done.message} Recorded as {done.id}.\n")
    return EXIT_OK

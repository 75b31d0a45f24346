"""The fix commands of `dbheal`: fix, migrate (list | plan | apply), heal, history, rollback.

Each prints what it will do before it does it; anything that writes (`fix --apply`, `heal`,
`migrate apply`, `rollback`) asks first on a terminal, and without one refuses (exit 2) unless
--yes says so. Exit status: 0 done (or nothing to do), 1 something was
refused or failed, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.cli import EXIT_ERROR, EXIT_FOUND, EXIT_OK, UsageError
from dbheal_lsp.cli.output import write
from dbheal_lsp.cli.preflight import preflight
from dbheal_lsp.cli.project import (
    add_database_argument,
    add_project_arguments,
    database_label,
    database_notes,
    load_project_from,
)
from dbheal_lsp.databases.schema_fixes import ON_LOSSY
from dbheal_lsp.fixes import present
from dbheal_lsp.model import CheckResult, CodeFix, IssueType

if TYPE_CHECKING:
    from dbheal_lsp.analysis.project import Project
    from dbheal_lsp.fixes.orchestrator import FixEngine, FixOutcome
    from dbheal_lsp.fixes.state import StateStore

DEFAULT_LOCK_TIMEOUT = 5.0


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
        "fixes they make right; where a type change would break other statements or lose "
        "values, the cast removal that heals the mismatch in the code instead. Asks first "
        "unless --yes.",
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
    from dbheal_lsp.databases.database import SchemaError
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
    from dbheal_lsp.analysis.text_edits import apply_edits, unified_diff
    from dbheal_lsp.fixes.overlap import non_overlapping

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
        edits = [e for f in non_overlapping(fixes) for e in f.edits]
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
        # One at a time, each planned against the file as the one before left it.
        for outcome in engine.fix_file(path, only):
            write(present.outcome_line(outcome) + "\n")
            if outcome.diff:
                write(outcome.diff + "\n")
            applied += outcome.applied
            failed += not outcome.applied
    write(f"Applied {applied} fixes in {len(by_file)} files (backups under .dbheal/backups/).\n")
    return EXIT_OK if not failed else EXIT_FOUND


# --- dbheal migrate -----------------------------------------------------------------------------


def _run_migrate(args: argparse.Namespace) -> int:
    from dbheal_lsp.fixes.orchestrator import require_queued

    args.paths = []
    writes = args.action == "apply" and not args.dry_run
    project = load_project_from(args, writes=writes)
    _name_database(project)
    if writes and project.config.database_url is None:
        preflight(project, args.lock_timeout)  # a server's waits for the plan's table
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
    write(present.plan_text(plan) + "\n")
    if args.action == "plan" or args.dry_run:
        # The re-analysis of the code included.
        write(present.dry_run_text(*engine.dry_run(plan)) + "\n")
        return EXIT_OK
    require_queued(entry)
    if project.config.database_url is not None:
        preflight(project, args.lock_timeout, tables=[plan.table])
    if not _ask(f"Apply migration {entry.id}: {plan.title}?", args):
        write("Nothing applied.\n")
        return EXIT_OK
    outcome = engine.apply_queued(entry.id, plan_id=plan.id, on_lossy=args.on_lossy)
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


def _print_outcome(outcome: FixOutcome) -> None:
    # A diff is followed by a blank line, as every diff the CLI prints.
    write(present.outcome_text(outcome) + ("\n\n" if outcome.diff else "\n"))


# --- dbheal heal --------------------------------------------------------------------------------


def _run_heal(args: argparse.Namespace) -> int:
    from dbheal_lsp.fixes.heal import heal, heal_items

    project = load_project_from(args, writes=True)
    _name_database(project)
    server = project.config.database_url is not None
    if not server:
        preflight(project, args.lock_timeout)
    engine = _engine(project, args)
    result = _check(project, args.paths)
    items = heal_items(engine, result)
    if not items:
        write("Nothing to heal.\n")
        return EXIT_OK
    if server:  # a lock on a table no fix touches stops nothing
        preflight(project, args.lock_timeout, tables=sorted({i.plan.table for i in items}))
    forced = args.on_lossy in ("null", "keep")  # the user chose to change lossy types anyway
    # A lossy item the user forces is applied as its schema change, not by its code fix.
    items = [replace(i, lossy=None) if forced and not i.blocked else i for i in items]
    safe = [i for i in items if i.safe or i.by_code]
    write("dbheal heal would apply:\n")
    for n, item in enumerate(items, 1):
        skipped = ""
        if item.blocked:
            skipped = "its dry run fails"
        elif not item.safe:
            skipped = "lossy; see --on-lossy"
        write(present.heal_item_text(n, item, skipped) + "\n")
    blocked = sum(1 for i in items if i.blocked and not i.by_code)
    lossy = sum(1 for i in items if not i.blocked and not i.safe and not i.by_code)
    if not safe:
        write("Nothing safe to apply.\n")
        return EXIT_FOUND
    if not _ask(f"Apply {len(safe)} fix(es)?", args):
        write("Nothing applied.\n")
        return EXIT_OK
    outcomes = heal(engine, safe)
    for outcome in outcomes:
        _print_outcome(outcome)
    after = _check(project, args.paths)
    by_code = sum(1 for i in safe if i.by_code)
    write("\n" + present.heal_summary(len(items), outcomes, blocked, lossy, by_code) + "\n")
    write(
        f"{len(result.issues)} issues before, {len(after.issues)} after; heal changes the "
        "schema, and the code only to remove a cast where the type cannot change: "
        "`dbheal fix` shows the other code fixes, the rest is for a person.\n"
    )
    return EXIT_OK if all(o.applied for o in outcomes) else EXIT_FOUND


# --- dbheal history / rollback ------------------------------------------------------------------


def _run_history(args: argparse.Namespace) -> int:
    from dbheal_lsp.config import find_root
    from dbheal_lsp.fixes.history_view import history_entries, history_json
    from dbheal_lsp.fixes.state import StateStore

    root = find_root(Path.cwd())
    store = StateStore(root)
    if args.prune:
        write(_prune_summary(store, root) + "\n")
        return EXIT_OK
    if args.json:
        data = history_json(store, args.limit)
        write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    entries = history_entries(store, args.limit)
    if not entries:
        write("No fixes recorded yet.\n")
        return EXIT_OK
    for lines in entries[: args.limit]:
        write("".join(line + "\n" for line in lines))
    return EXIT_OK


def _prune_summary(store: StateStore, root: Path) -> str:
    """Prune the backups and say, in one line, how many went and how many stay."""
    from dbheal_lsp.backups import BACKUPS_DIR
    from dbheal_lsp.fixes.prune import prune

    removed = prune(store, root, max_age_days=30, keep_per_database=20)
    folder = root.joinpath(*BACKUPS_DIR.parts)
    kept = sum(1 for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else 0
    return (
        f"Pruned {len(removed)} backups (older than 30 days or beyond 20 per database); "
        f"{kept} kept (see `dbheal history`)."
    )


def _run_rollback(args: argparse.Namespace) -> int:
    from dbheal_lsp.config import find_root
    from dbheal_lsp.fixes.rollback import RollbackError, plan_rollback, rollback
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

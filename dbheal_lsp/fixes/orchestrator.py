"""The fix engine: plans fixes for issues and applies them through the safety layer.

Every front door (CLI, language server, admin page, runtime wrapper) applies fixes here and
nowhere else, so each one is checked, backed up, locked, verified, recorded and reversible the
same way:

- code fixes: refused if the file changed since planning; the file is backed up, written
  atomically (fixes/code_writer.py), and recorded;
- schema fixes: refused when the same issue was fixed too often lately (loop prevention);
  one writer per database (a lock across processes); the database backed up with SQLite's
  backup API; applied in one transaction and verified (fixes/apply.py) after a re-analysis of
  the code (fixes/reanalysis.py); written as a new migration file when it is not already in
  the migrations (fixes/migration_writer.py); recorded;
- queued schema fixes: applied as the plan that was shown, their queue status set after.

`dbheal heal` (fixes/heal.py) is a batch of schema fixes applied here one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.codec import to_json
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.schema_fixes import fix_database, schema_fixes_for
from dbheal_lsp.files import read_regular_file
from dbheal_lsp.fixes import migration_queue
from dbheal_lsp.fixes.code_writer import fixed_text, write_code_fix
from dbheal_lsp.fixes.plan_targets import same_target
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import (
    CheckResult,
    CodeFix,
    Issue,
    IssueType,
    LossyReport,
    MigrationPlan,
    Severity,
    VerifyCheck,
    VerifyReport,
)
from dbheal_lsp.records import FixRecord, QueueEntry, utc_now

if TYPE_CHECKING:
    from dbheal_lsp.fixes.apply import ApplyOutcome


#: Why an issue gets no schema plan: the database's error, or ValueError (no plan can do it).
_NO_PLAN: tuple[type[Exception], ...] = (ValueError, *DatabaseError)


class FixError(Exception):
    """A fix cannot be planned or applied; the message says why in one line."""


@dataclass(frozen=True)
class FixSettings:
    """How fixes are applied; the defaults are the safe choices."""

    on_lossy: str = "refuse"  # one of databases.schema_fixes.ON_LOSSY
    full_integrity: bool = False  # PRAGMA integrity_check instead of quick_check
    write_migrations: bool = True  # write applied schema fixes as new migration files
    max_fixes: int = 2  # the same issue fixed more often than this within the window: refused
    loop_window_seconds: float = 3600.0
    lock_timeout: float = 5.0


@dataclass(frozen=True)
class FixOutcome:
    """What applying one fix did."""

    applied: bool
    message: str
    record: FixRecord | None = None
    verify: VerifyReport = field(default_factory=VerifyReport)
    lossy: LossyReport | None = None
    migration_file: str | None = None
    diff: str = ""


class FixEngine:
    """Plans and applies fixes for one project."""

    def __init__(self, project: Project, settings: FixSettings | None = None) -> None:
        self.project = project
        self.settings = settings or FixSettings()
        self.root = project.config.root
        self._store: StateStore | None = None

    @property
    def store(self) -> StateStore:
        """The project's .dbheal/state.sqlite, opened on first use."""
        if self._store is None:
            self._store = StateStore(self.root)
        return self._store

    # --- planning ----------------------------------------------------------------------------

    def read_source(self, rel: str) -> str:
        """Return the text of the project file `rel`, line endings untouched."""
        # Line endings untouched (no universal newlines); only a regular file inside the project.
        data = read_regular_file(self.root / rel, max_bytes=MAX_FILE_BYTES, root=self.root)
        return self.project.language_for(rel).decode(data)  # Python: a coding line, a BOM

    def code_fixes(self, issue: Issue, source: str | None = None) -> tuple[CodeFix, ...]:
        """Return the checked code fixes of `issue` (its file's text may be given)."""
        if issue.path.endswith(".sql") or issue.call_span is None:
            return ()
        try:
            text = self.read_source(issue.path) if source is None else source
        except (OSError, UnicodeDecodeError):
            return ()
        return self.project.language_for(issue.path).code_fixes(text, issue, self.project)

    def cast_fix(self, issue: Issue) -> Callable[[], CodeFix | None]:
        """The fix removing the cast a type change makes redundant, planned now.

        Planned (and checked) while the issue still shows, before the type changes; applied
        right after the change, and only if the file has not changed in between.
        """
        fix = next((f for f in self.code_fixes(issue) if f.kind == "remove_cast"), None)
        return lambda: fix

    def schema_plans(self, issue: Issue) -> tuple[MigrationPlan, ...]:
        """Return the schema fixes of `issue`, planned against the live database now."""
        database = fix_database(self.project.config)
        if database is None or not database.exists():
            return ()
        state = self.project.schema_state()
        try:
            return schema_fixes_for(database).plans_for(
                database, issue, state.schema, state.migrations
            )
        except _NO_PLAN:
            # ValueError: no plan can do it (a drifted column of a view, whose type follows
            # its table's: the table's own fix rebuilds the view).
            return ()

    def dry_run(
        self, plan: MigrationPlan, issue: Issue | None = None, *, schema_only: bool = False
    ) -> tuple[LossyReport | None, VerifyReport]:
        """Run `plan` in a transaction that is always rolled back; return what it found.

        The re-analysis runs too, so a dry run says whether the code would still agree. With
        `schema_only`, the plan runs on an empty in-memory copy of the schema instead (no
        LossyReport): milliseconds on any database, for when the question is only whether the
        steps and the code agree; applying checks the rows again in its own transaction.
        """
        from dbheal_lsp.fixes.apply import dry_run, schema_dry_run
        from dbheal_lsp.fixes.reanalysis import reanalysis

        database = self._database()
        check = reanalysis(self.project, issue, plan)
        if schema_only:
            timeout = self.settings.lock_timeout
            return None, schema_dry_run(database, plan, lock_timeout=timeout, extra_check=check)
        return dry_run(database, plan, lock_timeout=self.settings.lock_timeout, extra_check=check)

    # --- applying code fixes -----------------------------------------------------------------

    def apply_code(self, fix: CodeFix, *, kind: str = "code") -> FixOutcome:
        """Apply a code fix: refuse a stale one, back the file up, write it, record it."""
        texts = self._planned_text(fix)
        if texts is None:
            return FixOutcome(False, f"{fix.path} changed since this fix was planned: plan again")
        fix_id = self.store.new_fix_id()
        diff = self._write_code(fix, *texts, fix_id)
        record = self.store.record_fix(
            FixRecord(
                id=fix_id,
                created_at=utc_now(),
                kind=kind,
                title=fix.title,
                issue_fingerprint=fix.issue_fingerprint,
                plan_id=fix.id,
                plan_text=diff,
                plan_json=to_json(fix),
                files=(fix.path,),
                backup_dir=self._relative(self._backup_dir(fix_id)),
                verify=VerifyReport((VerifyCheck("re-analysis", True, "fix checked"),)),
                outcome="applied",
                message=f"edited {fix.path}",
            )
        )
        return FixOutcome(True, f"edited {fix.path}", record, record.verify, diff=diff)

    def fix_file(self, path: str, only: IssueType | None = None) -> Iterator[FixOutcome]:
        """Apply the code fixes of the project file `path` (of issues of type `only`, if
        given) one at a time, each planned against the file as the one before left it; yield
        each outcome once it is applied. A fix is tried once."""
        tried: set[str] = set()
        for _ in range(200):  # a bound, should fixes keep coming back
            source = self.read_source(path)
            result = self.project.check_source(path, source)
            fix = next(
                (
                    f
                    for issue in result.issues
                    if only is None or issue.type is only
                    for f in self.code_fixes(issue, source)[:1]
                    if f.id not in tried
                ),
                None,
            )
            if fix is None:
                return
            tried.add(fix.id)
            yield self.apply_code(fix)

    def _planned_text(self, fix: CodeFix) -> tuple[str, str] | None:
        """Return the file's text and the text `fix` makes of it; None when the file changed
        since the fix was planned."""
        source = self.read_source(fix.path)
        after = fixed_text(fix, source)
        return None if after is None else (source, after)

    def _write_code(self, fix: CodeFix, source: str, after: str, fix_id: str) -> str:
        """Write a code fix as part of fix `fix_id` (backed up in its folder); return the diff."""
        language = self.project.language_for(fix.path)
        return write_code_fix(self.root, fix, source, after, self._backup_dir(fix_id), language)

    # --- applying schema fixes ---------------------------------------------------------------

    def apply_schema(
        self,
        plan: MigrationPlan,
        *,
        issue: Issue | None = None,
        on_lossy: str | None = None,
        then_code: Callable[[], CodeFix | None] | None = None,
    ) -> FixOutcome:
        """Apply a schema plan through the safety layer; optionally a code fix right after."""
        from dbheal_lsp.backups import BackupError
        from dbheal_lsp.fixes.lock import LockTimeout
        from dbheal_lsp.fixes.reanalysis import reanalysis
        from dbheal_lsp.fixes.schema_run import run_backed_up

        cannot_run: tuple[type[Exception], ...] = (OSError, BackupError, *DatabaseError)
        database = self._database()  # none configured: said before anything is reserved
        fingerprint = plan.issue_fingerprint
        if fingerprint and self._looping(fingerprint):
            message = (
                f"refused: this issue was already fixed {self.settings.max_fixes} times in the "
                f"last {self.settings.loop_window_seconds / 60:.0f} minutes (loop prevention)"
            )
            return FixOutcome(False, message, self._record_refused(plan, message))
        fix_id = self.store.new_fix_id()
        backup_dir = self._backup_dir(fix_id)
        try:
            outcome = run_backed_up(
                database,
                plan,
                backup_dir,
                lambda: reanalysis(self.project, issue, plan),
                root=self.root,
                on_lossy=on_lossy or self.settings.on_lossy,
                full_integrity=self.settings.full_integrity,
                lock_timeout=self.settings.lock_timeout,
            )
        except LockTimeout as exc:
            return FixOutcome(False, str(exc))
        except cannot_run as exc:
            _remove_tree(backup_dir)
            return FixOutcome(False, f"cannot apply {plan.title}: {exc}; nothing was changed")
        if not outcome.applied:
            _remove_tree(backup_dir)
            record = self._record_refused(plan, outcome.message, outcome.verify)
            return FixOutcome(False, outcome.message, record, outcome.verify, outcome.lossy)
        return self._record_applied(plan, fix_id, outcome, then_code)

    def _record_applied(
        self,
        plan: MigrationPlan,
        fix_id: str,
        outcome: ApplyOutcome,
        then_code: Callable[[], CodeFix | None] | None,
    ) -> FixOutcome:
        """Finish an applied plan: its migration file, then its code fix (if any and still
        fresh), then its record in the history."""
        files: list[str] = []
        migration = self._write_migration(plan, fix_id)
        if migration is not None:
            files.append(migration)
        code_diff = ""
        kind = "schema"
        message = f"applied: {plan.title}"
        code_fix = then_code() if then_code is not None else None
        texts = self._planned_text(code_fix) if code_fix is not None else None
        if code_fix is not None and texts is not None:
            code_diff = self._write_code(code_fix, *texts, fix_id)
            files.append(code_fix.path)
            kind = "both"
            message += f"; {code_fix.title}"
        record = self.store.record_fix(
            FixRecord(
                id=fix_id,
                created_at=utc_now(),
                kind=kind,
                title=plan.title,
                issue_fingerprint=plan.issue_fingerprint,
                plan_id=plan.id,
                plan_text=plan.sql + (("\n\n" + code_diff) if code_diff else ""),
                plan_json=to_json(plan),
                database=self._relative(self._database()),
                files=tuple(files),
                backup_dir=self._relative(self._backup_dir(fix_id)),
                verify=outcome.verify,
                outcome="applied",
                message=message,
            )
        )
        return FixOutcome(
            True, message, record, outcome.verify, outcome.lossy, migration, diff=code_diff
        )

    def _write_migration(self, plan: MigrationPlan, fix_id: str) -> str | None:
        """Write an applied plan as a new migration file (when it is new and wanted)."""
        folder = self.project.config.migrations
        if not (self.settings.write_migrations and plan.migration_name and folder):
            return None
        from dbheal_lsp.fixes.migration_writer import write_migration

        path = write_migration(self.root, folder, plan, fix_id, self._backup_dir(fix_id))
        return self._relative(path)

    def _record_refused(
        self, plan: MigrationPlan, message: str, verify: VerifyReport | None = None
    ) -> FixRecord:
        outcome = "failed" if verify is not None and not verify.ok else "refused"
        return self.store.record_fix(
            FixRecord(
                id=self.store.new_fix_id(),
                created_at=utc_now(),
                kind="schema",
                title=plan.title,
                issue_fingerprint=plan.issue_fingerprint,
                plan_id=plan.id,
                plan_text=plan.sql,
                plan_json=to_json(plan),
                database=self._relative(self._database()),
                verify=verify or VerifyReport(),
                outcome=outcome,
                message=message,
            )
        )

    def _looping(self, fingerprint: str) -> bool:
        count = self.store.times_fixed(fingerprint, self.settings.loop_window_seconds)
        return count >= self.settings.max_fixes

    # --- the migration queue -------------------------------------------------------------------

    def enqueue(self, plan: MigrationPlan, severity: Severity) -> QueueEntry:
        """Queue `plan` and return its entry; the queue outlives restarts.

        A plan for the target of a queued entry (the same change, planned again or for another
        issue) is not queued twice: that entry takes the newer plan and keeps its id.
        """
        database = fix_database(self.project.config)
        where = self._relative(database) if database else None
        return migration_queue.enqueue(self.store, plan, severity, where)

    def queued_plan(self, entry_id: int) -> tuple[QueueEntry, MigrationPlan]:
        """Return a queue entry and its plan, made again if the schema changed since; or raise
        FixError. An entry whose change was done meanwhile comes back "done elsewhere"."""
        entry = self.store.entry(entry_id)
        if entry is None:
            raise FixError(f"no queued migration {entry_id} (see `dbheal migrate list`)")
        plan = migration_queue.stored_plan(entry)
        if entry.status != "queued":
            if plan is None:
                raise FixError(f"migration {entry_id} is {entry.status} and its plan unreadable")
            return entry, plan
        try:
            version = migration_queue.schema_version(fix_database(self.project.config))
            if plan is None or plan.schema_version != version:
                self.refresh_queue()
                entry = self.store.entry(entry_id) or entry
                plan = migration_queue.stored_plan(entry) or plan
        except SchemaError as exc:
            # Said in one line by every front door (the admin's page of a migration too).
            raise FixError(f"cannot plan migration {entry_id} again: {exc.message}") from None
        if plan is None:
            raise FixError(f"queued migration {entry_id} has an unreadable plan")
        return entry, plan

    def apply_queued(
        self,
        entry_id: int,
        *,
        plan_id: str | None = None,
        issue: Issue | None = None,
        on_lossy: str | None = None,
        then_code: Callable[[], CodeFix | None] | None = None,
    ) -> FixOutcome:
        """Apply queued migration `entry_id` and set its queue status: "applied" or "failed".

        `plan_id` is the plan that was shown: when the entry's plan is another now (planned
        again since), nothing is applied. Raise FixError when there is no such entry, its plan
        is not the one shown, or it is not queued; the other arguments are `apply_schema`'s.
        """
        entry, plan = self.queued_plan(entry_id)
        if plan_id is not None and plan.id != plan_id:
            raise FixError(f"That is not the plan of migration {entry.id}: show it again.")
        require_queued(entry)
        outcome = self.apply_schema(plan, issue=issue, on_lossy=on_lossy, then_code=then_code)
        self.store.set_status(entry.id, "applied" if outcome.applied else "failed")
        return outcome

    def refresh_queue(self, result: CheckResult | None = None) -> list[QueueEntry]:
        """Make every queued entry's plan again, from the issues of `result` (a check of the
        project when None) against the database as it is now; return the queue.

        Entries whose change nothing asks for any more leave as "done elsewhere"; of two
        entries for one target the older stays, the other leaves as "dropped"; ids never
        change.
        """
        database = fix_database(self.project.config)
        queued = self.store.queued()
        if not queued or database is None or not database.exists():
            return queued  # nothing to plan against: leave the queue as it is
        if result is None:
            result = self.project.check_paths([self.root])
        fresh = self.fresh_plans(result)
        migration_queue.requeue(self.store, queued, fresh, self._relative(database))
        return self.store.queued()

    def fresh_plans(self, result: CheckResult) -> list[tuple[MigrationPlan, Severity]]:
        """Return the schema plans of the issues of `result`, one per target, planned now,
        each with the worst severity of the issues asking for it."""
        issues = sorted(result.issues, key=lambda i: -i.severity.rank)
        planned = ((p, i.severity) for i in issues for p in self.schema_plans(i))
        return migration_queue.one_per_target(planned)

    def replan(self, plan: MigrationPlan, issues: Iterable[Issue]) -> MigrationPlan | None:
        """Return `plan` made again against the database as it is now (None if not needed)."""
        for issue in issues:
            for fresh in self.schema_plans(issue):
                if same_target(fresh, plan):
                    return fresh
        return None

    # --- history -------------------------------------------------------------------------------

    def rollback(self, fix_id: str) -> FixRecord:
        """Undo fix `fix_id` (refused while later fixes depend on it); return the record."""
        from dbheal_lsp.fixes.rollback import rollback

        return rollback(self.store, self.root, fix_id, lock_timeout=self.settings.lock_timeout)

    def prune(self, *, max_age_days: float = 30, keep_per_database: int = 20) -> list[str]:
        """Delete old backups, never those of a fix that can still be rolled back."""
        from dbheal_lsp.fixes.prune import prune

        return prune(
            self.store, self.root, max_age_days=max_age_days, keep_per_database=keep_per_database
        )

    # --- helpers -------------------------------------------------------------------------------

    def _database(self) -> Path:
        database = fix_database(self.project.config)
        if database is None:
            raise FixError("no database configured (set [tool.dbheal] database or --db)")
        return database

    def _backup_dir(self, fix_id: str) -> Path:
        return self.root / ".dbheal" / "backups" / fix_id

    def _relative(self, path: Path) -> str:
        return self.project.config.relative(path)


def require_queued(entry: QueueEntry) -> None:
    """Raise FixError unless `entry` still waits in the queue (applied, failed or dropped
    entries are not applied again)."""
    if entry.status != "queued":
        raise FixError(f"migration {entry.id} is {entry.status}, not queued")


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "FixEngine",
    "FixError",
    "FixOutcome",
    "FixSettings",
    "require_queued",
]

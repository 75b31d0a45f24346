"""The orchestrator: plans fixes for issues and applies them through the safety layer.

Every front door (CLI, language server, admin page, runtime wrapper) applies fixes here and
nowhere else, so each one is checked, backed up, locked, verified, recorded and reversible the
same way:

- code fixes: refused if the file changed since planning; the file is backed up, written
  atomically, and recorded;
- schema fixes: refused when the same issue was fixed too often lately (loop prevention);
  one writer per database (a lock across processes); the database backed up with SQLite's
  backup API; applied in one transaction and verified (fixes/apply.py); written as a new
  migration file when it is not already in the migrations; recorded.
"""

from __future__ import annotations

import ast
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.analysis.live_db import open_read_only
from dbheal_lsp.analysis.migrations import migration_files
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.analysis.schema import schema_from_connection
from dbheal_lsp.analysis.statement import Statement
from dbheal_lsp.codec import from_json, to_json
from dbheal_lsp.files import (
    SourceNotText,
    atomic_write,
    python_encoding,
    python_source,
    read_regular_file,
    text_hash,
)
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

# The order in which heal applies schema fixes: what others build on first.
_KIND_ORDER = {
    "create_table": 0,
    "add_column": 1,
    "create_index": 3,
    "create_trigger": 2,
    "change_type": 4,
}
_SAFE_FOR_HEAL = frozenset(
    {
        IssueType.MISSING_TABLE,
        IssueType.MISSING_COLUMN,
        IssueType.MISSING_INDEX,
        IssueType.TYPE_MISMATCH,
        IssueType.SCHEMA_DRIFT,
    }
)


# Issue types whose appearance after a schema fix means the fix broke the code.
_BREAKING = frozenset(
    {
        IssueType.MISSING_TABLE,
        IssueType.MISSING_COLUMN,
        IssueType.SQL_SYNTAX,
        IssueType.TYPE_MISMATCH,
    }
)


class FixError(Exception):
    """A fix cannot be planned or applied; the message says why in one line."""


@dataclass(frozen=True)
class FixSettings:
    """How fixes are applied; the defaults are the safe choices."""

    on_lossy: str = "refuse"  # refuse | null | keep | abort
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


@dataclass(frozen=True)
class HealItem:
    """One fix `dbheal heal` would apply, and the issues it resolves."""

    plan: MigrationPlan
    issues: tuple[Issue, ...]
    with_code: bool  # a type change that also removes the cast the change makes redundant
    lossy: LossyReport | None = None
    blocked: str = ""  # why a dry run says it would fail (the code would break, say)

    @property
    def safe(self) -> bool:
        """Return whether heal applies it: lossless, and its dry run passes."""
        return not self.blocked and (self.lossy is None or self.lossy.lossless)


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
        return python_source(data)  # as Python decodes it: a coding line, a BOM

    def code_fixes(self, issue: Issue, source: str | None = None) -> tuple[CodeFix, ...]:
        """Return the checked code fixes of `issue` (its file's text may be given)."""
        if issue.path.endswith(".sql") or issue.call_span is None:
            return ()
        from dbheal_lsp.fixes.code import code_fixes

        try:
            text = self.read_source(issue.path) if source is None else source
        except (OSError, UnicodeDecodeError):
            return ()
        return code_fixes(text, issue, self.project)

    def schema_plans(self, issue: Issue) -> tuple[MigrationPlan, ...]:
        """Return the schema fixes of `issue`, planned against the live database now."""
        from dbheal_lsp.fixes.plans import plans_for

        database = self.project.config.database
        if database is None or not database.exists():
            return ()
        state = self.project.schema_state()
        conn = open_read_only(database)
        try:
            return plans_for(issue, conn, state.schema, state.migrations)
        except (sqlite3.Error, ValueError):
            # ValueError: no plan can do it (a drifted column of a view, whose type follows
            # its table's: the table's own fix rebuilds the view).
            return ()
        finally:
            conn.close()

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

        database = self._database()
        check = self._reanalysis(issue, plan)
        if schema_only:
            timeout = self.settings.lock_timeout
            return None, schema_dry_run(database, plan, lock_timeout=timeout, extra_check=check)
        return dry_run(database, plan, lock_timeout=self.settings.lock_timeout, extra_check=check)

    # --- applying code fixes -----------------------------------------------------------------

    def apply_code(self, fix: CodeFix, *, kind: str = "code") -> FixOutcome:
        """Apply a code fix: refuse a stale one, back the file up, write it, record it."""
        from dbheal_lsp.fixes.backup import FILES_SUBDIR, backup_files
        from dbheal_lsp.fixes.code import apply_edits, unified_diff

        source = self.read_source(fix.path)
        if text_hash(source) != fix.source_hash:
            return FixOutcome(False, f"{fix.path} changed since this fix was planned: plan again")
        after = apply_edits(source, fix.edits)
        diff = unified_diff(fix.path, source, after)
        fix_id = self.store.new_fix_id()
        backup_dir = self._backup_dir(fix_id)
        backup_files(self.root, [fix.path], backup_dir / FILES_SUBDIR)
        _write_atomically(self.root / fix.path, after)
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
                backup_dir=self._relative(backup_dir),
                verify=VerifyReport((VerifyCheck("re-analysis", True, "fix checked"),)),
                outcome="applied",
                message=f"edited {fix.path}",
            )
        )
        return FixOutcome(True, f"edited {fix.path}", record, record.verify, diff=diff)

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
        from dbheal_lsp.fixes.apply import apply_plan
        from dbheal_lsp.fixes.backup import DATABASE_SUBDIR, BackupError, backup_database
        from dbheal_lsp.fixes.lock import LockTimeout, database_lock

        database = self._database()
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
            with database_lock(database, self.settings.lock_timeout, root=self.root):
                reanalysis = self._reanalysis(issue, plan)
                cache_kib, beside = _rebuild_cache(database, plan)
                with _BackgroundBackup(
                    lambda: backup_database(database, backup_dir / DATABASE_SUBDIR),
                    background=beside,
                ) as backup:
                    outcome = apply_plan(
                        database,
                        plan,
                        on_lossy=on_lossy or self.settings.on_lossy,
                        full_integrity=self.settings.full_integrity,
                        lock_timeout=self.settings.lock_timeout,
                        extra_check=backup.then(reanalysis),
                        cache_kib=cache_kib,
                    )
                if outcome.applied:
                    # What the database is right after the fix: a rollback restores the
                    # backup only while it is still exactly this (fixes/fingerprint.py).
                    from dbheal_lsp.fixes.fingerprint import remember_after_fix

                    remember_after_fix(database, backup_dir, timeout=self.settings.lock_timeout)
        except LockTimeout as exc:
            return FixOutcome(False, str(exc))
        except (OSError, sqlite3.Error, BackupError) as exc:
            _remove_tree(backup_dir)
            return FixOutcome(False, f"cannot apply {plan.title}: {exc}; nothing was changed")
        if not outcome.applied:
            _remove_tree(backup_dir)
            record = self._record_refused(plan, outcome.message, outcome.verify)
            return FixOutcome(False, outcome.message, record, outcome.verify, outcome.lossy)
        files: list[str] = []
        migration = self._write_migration(plan, fix_id)
        if migration is not None:
            files.append(migration)
        code_diff = ""
        kind = "schema"
        message = f"applied: {plan.title}"
        if then_code is not None:
            code_fix = then_code()
            if code_fix is not None:
                code = self._apply_code_in(fix_id, code_fix)
                if code is not None:
                    files.append(code_fix.path)
                    code_diff = code
                    kind = "both"
                    message += f"; {code_fix.title}"
        record = self.store.record_fix(
            FixRecord(
                id=fix_id,
                created_at=utc_now(),
                kind=kind,
                title=plan.title,
                issue_fingerprint=fingerprint,
                plan_id=plan.id,
                plan_text=plan.sql + (("\n\n" + code_diff) if code_diff else ""),
                plan_json=to_json(plan),
                database=self._relative(database),
                files=tuple(files),
                backup_dir=self._relative(backup_dir),
                verify=outcome.verify,
                outcome="applied",
                message=message,
            )
        )
        return FixOutcome(
            True, message, record, outcome.verify, outcome.lossy, migration, diff=code_diff
        )

    def _apply_code_in(self, fix_id: str, fix: CodeFix) -> str | None:
        """Apply a code fix as part of fix `fix_id` (backed up in its folder); return the diff."""
        from dbheal_lsp.fixes.backup import FILES_SUBDIR, backup_files
        from dbheal_lsp.fixes.code import apply_edits, unified_diff

        source = self.read_source(fix.path)
        if text_hash(source) != fix.source_hash:
            return None
        after = apply_edits(source, fix.edits)
        backup_files(self.root, [fix.path], self._backup_dir(fix_id) / FILES_SUBDIR)
        _write_atomically(self.root / fix.path, after)
        return unified_diff(fix.path, source, after)

    def _reanalysis(
        self, issue: Issue | None, plan: MigrationPlan
    ) -> Callable[[sqlite3.Connection], VerifyReport]:
        """Return the re-analysis run inside the fix's transaction, before it commits.

        The issue must be gone, and no statement of the code that names the table may get a
        new breaking issue (a type change must not trade one mismatch for others).

        The schema before the change is read now, before the transaction begins: once the
        transaction has spilled pages to the file (a rebuild of a large table does), a second
        connection cannot read the database until it ends, so the check itself reads only
        from the connection it is given, the one that holds the transaction.
        """
        from dbheal_lsp.analysis.checks import CheckSettings, StatementChecker
        from dbheal_lsp.analysis.drift import Drift
        from dbheal_lsp.analysis.live_db import SchemaError
        from dbheal_lsp.analysis.schema import oracle_connection

        try:
            state = self.project.schema_state()
            before = self.project.checker(state)
        except (SchemaError, sqlite3.Error) as exc:
            reason = f"cannot read the schema before the change: {exc}"

            def cannot(conn: sqlite3.Connection) -> VerifyReport:
                return VerifyReport((VerifyCheck("re-analysis", False, reason),))

            return cannot

        def check(conn: sqlite3.Connection) -> VerifyReport:
            after_schema = schema_from_connection(conn, "database")
            oracle = oracle_connection(after_schema)
            after = StatementChecker(after_schema, state.expected, Drift(), oracle, CheckSettings())
            still: list[Issue] = []
            added: list[Issue] = []
            try:
                for rel, statements in self._statements_naming(plan.table, issue):
                    for statement in statements:
                        old = {i.fingerprint for i in before.check(statement, rel)}
                        for found in after.check(statement, rel):
                            if issue is not None and _same_issue(found, issue):
                                still.append(found)
                            elif found.fingerprint not in old and found.type in _BREAKING:
                                added.append(found)
            finally:
                oracle.close()
            checks = []
            if issue is not None and not issue.path.endswith(".sql"):
                detail = "the issue is gone" if not still else f"still: {still[0].message}"
                checks.append(VerifyCheck("re-analysis", not still, detail))
            detail = "no statement of the code gets a new issue"
            if added:
                first = added[0]
                detail = (
                    f"{len(added)} statement(s) would break, e.g. {first.path}:"
                    f"{first.span.line}: {first.type.value} {first.message}"
                )
            checks.append(VerifyCheck("code still agrees", not added, detail))
            return VerifyReport(tuple(checks))

        return check

    def _statements_naming(
        self, table: str, issue: Issue | None
    ) -> Iterable[tuple[str, tuple[Statement, ...]]]:
        """Yield (path, statements) of every project file whose text names `table`."""
        needle = table.lower()
        files = self.project.python_files([self.root])
        for file in files:
            rel = self.project.config.relative(file)
            try:
                source = python_source(read_regular_file(file, max_bytes=MAX_FILE_BYTES))
            except (OSError, SourceNotText):
                continue
            if needle not in source.lower() and (issue is None or rel != issue.path):
                continue
            try:
                yield rel, self.project.statements(source, rel)
            except (SyntaxError, ValueError):
                continue

    def _write_migration(self, plan: MigrationPlan, fix_id: str) -> str | None:
        folder = self.project.config.migrations
        if not (self.settings.write_migrations and plan.migration_name and folder):
            return None
        from dbheal_lsp.fixes.backup import FILES_SUBDIR, backup_files

        path = next_migration_path(folder, plan.migration_name)
        # Recorded as absent before the fix, so that a rollback removes the file again.
        backup_files(self.root, [self._relative(path)], self._backup_dir(fix_id) / FILES_SUBDIR)
        lines = [
            f"-- {plan.title}",
            f"-- Written by dbheal (fix {fix_id}, {utc_now()}): {plan.description}",
        ]
        if plan.foreign_keys_off:
            lines.append(
                "-- Run with PRAGMA foreign_keys=OFF outside a transaction, as SQLite's table "
                "rebuild procedure requires."
            )
        lines.append("")
        lines.extend(s.sql.strip().rstrip(";") + ";" for s in plan.steps if s.kind == "sql")
        # A new file (never written through a link planted at its name).
        atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o644)
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

    # --- queue, rollback, cleanup -------------------------------------------------------------

    def enqueue(self, plan: MigrationPlan, severity: Severity) -> QueueEntry:
        """Queue `plan` and return its entry; the queue outlives restarts.

        A plan for the target of a queued entry (the same change, planned again or for another
        issue) is not queued twice: that entry takes the newer plan and keeps its id.
        """
        for entry in self.store.queued():
            stored = _stored_plan(entry)
            if stored is not None and _same_target(stored, plan):
                if _sql_set(plan) < _sql_set(stored):
                    return entry  # one part of the migration file the entry applies whole
                return self._give(entry, plan) or entry
        database = self.project.config.database
        return self.store.enqueue(
            plan.id,
            plan.kind,
            plan.title,
            severity,
            to_json(plan),
            issue_fingerprint=plan.issue_fingerprint,
            database=self._relative(database) if database else None,
        )

    def queued_plan(self, entry_id: int) -> tuple[QueueEntry, MigrationPlan]:
        """Return a queue entry and its plan, made again if the schema changed since; or raise
        FixError. An entry whose change was done meanwhile comes back "done elsewhere"."""
        entry = self.store.entry(entry_id)
        if entry is None:
            raise FixError(f"no queued migration {entry_id} (see `dbheal migrate list`)")
        plan = _stored_plan(entry)
        if entry.status != "queued":
            if plan is None:
                raise FixError(f"migration {entry_id} is {entry.status} and its plan unreadable")
            return entry, plan
        if plan is None or plan.schema_version != self._schema_version():
            self.refresh_queue()
            entry = self.store.entry(entry_id) or entry
            plan = _stored_plan(entry) or plan
        if plan is None:
            raise FixError(f"queued migration {entry_id} has an unreadable plan")
        return entry, plan

    def refresh_queue(self, result: CheckResult | None = None) -> list[QueueEntry]:
        """Make every queued entry's plan again, from the issues of `result` (a check of the
        project when None) against the database as it is now; return the queue.

        Entries whose change nothing asks for any more leave as "done elsewhere"; of two
        entries for one target the older stays, the other leaves as "dropped"; ids never
        change.
        """
        database = self.project.config.database
        queued = self.store.queued()
        if not queued or database is None or not database.exists():
            return queued  # nothing to plan against: leave the queue as it is
        if result is None:
            result = self.project.check_paths([self.root])
        fresh = self.fresh_plans(result)
        taken: list[MigrationPlan] = []
        current = self._relative(database)
        for entry in sorted(queued, key=lambda e: e.id):
            if entry.database is not None and entry.database != current:
                continue  # queued for another database: judged when that one is used
            stored = _stored_plan(entry)
            match = next((p for p, _ in fresh if _same_target(stored, p)), None) if stored else None
            if match is None:
                self.store.set_status(entry.id, "done elsewhere")
            elif any(_same_target(match, t) for t in taken):
                self.store.set_status(entry.id, "dropped")
            else:
                taken.append(match)
                self._give(entry, match)
        return self.store.queued()

    def fresh_plans(self, result: CheckResult) -> list[tuple[MigrationPlan, Severity]]:
        """Return the schema plans of the issues of `result`, one per target, planned now,
        each with the worst severity of the issues asking for it."""
        plans: list[tuple[MigrationPlan, Severity]] = []
        for issue in sorted(result.issues, key=lambda i: -i.severity.rank):
            for plan in self.schema_plans(issue):
                same = next((n for n, p in enumerate(plans) if _same_target(p[0], plan)), None)
                if same is None:
                    plans.append((plan, issue.severity))
                elif _sql_set(plan) > _sql_set(plans[same][0]):
                    # The whole migration file over one of its parts.
                    plans[same] = (plan, plans[same][1])
        return plans

    def _give(self, entry: QueueEntry, plan: MigrationPlan) -> QueueEntry | None:
        """Store `plan` as the plan of queued `entry` (unless it is the one stored already)."""
        payload = to_json(plan)
        if payload == entry.payload_json:
            return entry
        from dbheal_lsp.fixes.state import StateError

        try:
            return self.store.replan_entry(
                entry.id,
                plan.id,
                plan.kind,
                plan.title,
                payload,
                issue_fingerprint=plan.issue_fingerprint,
            )
        except StateError:
            # Another queued entry holds that plan already: this one is its duplicate.
            return self.store.set_status(entry.id, "dropped")
        except KeyError:
            return None

    def _schema_version(self) -> int | None:
        database = self.project.config.database
        if database is None or not database.exists():
            return None
        try:
            conn = open_read_only(database)
        except (OSError, sqlite3.Error):
            return None
        try:
            return int(conn.execute("PRAGMA schema_version").fetchone()[0])
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    def replan(self, plan: MigrationPlan, issues: Iterable[Issue]) -> MigrationPlan | None:
        """Return `plan` made again against the database as it is now (None if not needed)."""
        for issue in issues:
            for fresh in self.schema_plans(issue):
                if _same_target(fresh, plan):
                    return fresh
        return None

    def rollback(self, fix_id: str) -> FixRecord:
        """Undo fix `fix_id` (refused while later fixes depend on it); return the record."""
        from dbheal_lsp.fixes.history import rollback

        return rollback(self.store, self.root, fix_id, lock_timeout=self.settings.lock_timeout)

    def prune(self, *, max_age_days: float = 30, keep_per_database: int = 20) -> list[str]:
        """Delete old backups, never those of a fix that can still be rolled back."""
        from dbheal_lsp.fixes.history import prune

        return prune(
            self.store, self.root, max_age_days=max_age_days, keep_per_database=keep_per_database
        )

    # --- heal ----------------------------------------------------------------------------------

    def heal_items(self, result: CheckResult) -> list[HealItem]:
        """Return the schema fixes `dbheal heal` would apply for `result`, in order."""
        from dbheal_lsp.fixes.rebuild import lossy_report

        by_plan: dict[str, tuple[MigrationPlan, list[Issue]]] = {}
        for issue in sorted(result.issues, key=lambda i: -i.severity.rank):
            if issue.type not in _SAFE_FOR_HEAL:
                continue
            if issue.type is IssueType.MISSING_TABLE and issue.origin is None:
                continue  # a typo, not a missing migration: a person decides
            if issue.type is IssueType.MISSING_COLUMN and issue.origin is None:
                continue
            for plan in self.schema_plans(issue):
                # Two issues may ask for the same change (a drifted column on a query and on its
                # migration, two tables of one migration file): one fix serves both, the
                # whole file's plan over the plan of one of its parts.
                key = next((k for k, v in by_plan.items() if _same_target(v[0], plan)), None)
                if key is None:
                    by_plan[_plan_key(plan)] = (plan, [issue])
                else:
                    kept, issues = by_plan[key]
                    bigger = _sql_set(plan) > _sql_set(kept)
                    by_plan[key] = (plan if bigger else kept, [*issues, issue])
                break
        items: list[HealItem] = []
        database = self.project.config.database
        for plan, issues in by_plan.values():
            lossy = None
            blocked = ""
            if plan.kind == "change_type" and database is not None and plan.column:
                conn = open_read_only(database)
                try:
                    lossy = lossy_report(conn, plan.table, plan.column, plan.new_type or "")
                finally:
                    conn.close()
                if lossy.lossless:
                    # A type change can break other queries of the column: try it first.
                    _, verify = self.dry_run(plan, issues[0], schema_only=True)
                    blocked = "; ".join(f"{c.name}: {c.detail}" for c in verify.failures())
            with_code = any(i.type is IssueType.TYPE_MISMATCH and i.helper for i in issues)
            items.append(HealItem(plan, tuple(issues), with_code, lossy, blocked))
        items.sort(key=lambda item: _KIND_ORDER.get(item.plan.kind, 9))
        return items

    def heal(self, items: Sequence[HealItem]) -> list[FixOutcome]:
        """Apply every safe item, each planned again just before it runs.

        One item that cannot be planned or applied is refused with its reason; the others go
        on (each fix is its own transaction, so a refused one has changed nothing).
        """
        from dbheal_lsp.analysis.live_db import SchemaError

        outcomes: list[FixOutcome] = []
        for item in items:
            if not item.safe:
                continue
            try:
                plan = self.replan(item.plan, item.issues)
                if plan is None:
                    # An earlier fix did this one too (an index that came with its column, say).
                    outcomes.append(FixOutcome(True, f"already done: {item.plan.title}"))
                    continue
                issue = item.issues[0]
                then_code = self.cast_fix(issue) if item.with_code else None
                outcomes.append(self.apply_schema(plan, issue=issue, then_code=then_code))
            except (FixError, SchemaError, ValueError, sqlite3.Error, OSError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                outcomes.append(FixOutcome(False, f"refused: {item.plan.title}: {reason}"))
        return outcomes

    def cast_fix(self, issue: Issue) -> Callable[[], CodeFix | None]:
        """The fix removing the cast a type change makes redundant, planned now.

        Planned (and checked) while the issue still shows, before the type changes; applied
        right after the change, and only if the file has not changed in between.
        """
        fix = next((f for f in self.code_fixes(issue) if f.kind == "remove_cast"), None)
        return lambda: fix

    # --- helpers -------------------------------------------------------------------------------

    def _database(self) -> Path:
        database = self.project.config.database
        if database is None:
            raise FixError("no database configured (set [tool.dbheal] database or --db)")
        return database

    def _backup_dir(self, fix_id: str) -> Path:
        return self.root / ".dbheal" / "backups" / fix_id

    def _relative(self, path: Path) -> str:
        return self.project.config.relative(path)


# A type change rebuilds the whole table. Its connection gets a page cache that holds the
# rebuild's pages, up to this much: SQLite's default 2 MB makes a copy into a table with a TEXT
# key or a UNIQUE column (indexes filled in random order) spill again and again. When the
# rebuild fits, the backup is also taken beside it (on the other core): in rollback-journal
# mode a writer that spills pages to the file must wait for every reader, the backup included,
# and with its pages in memory it writes only at COMMIT, after the backup has finished.
_REBUILD_CACHE_LIMIT = 512 * 1024 * 1024


def _rebuild_cache(database: Path, plan: MigrationPlan) -> tuple[int, bool]:
    """Return the page cache (KiB, 0: SQLite's default) for `plan`, and whether it holds the
    whole rebuild (then the backup runs beside it)."""
    if plan.kind != "change_type":
        return 0, False  # small changes: nothing to gain
    try:
        size = database.stat().st_size
        wal = Path(f"{database}-wal")
        size += wal.stat().st_size if wal.exists() else 0
    except OSError:
        return 0, False
    # The rebuild dirties about the table and its indexes again; the whole file is an upper
    # bound of that, and the margin covers the schema and freelist pages.
    needed = size * 3 // 2 + 32 * 1024 * 1024
    return min(needed, _REBUILD_CACHE_LIMIT) // 1024, needed <= _REBUILD_CACHE_LIMIT


class _BackgroundBackup:
    """Take the database backup in a thread while the fix's transaction runs, or before it.

    The transaction must not commit without its backup: `then(check)` returns the executor's
    last check inside the transaction, which waits for the backup and fails (rolling the fix
    back) if it failed. In WAL mode the backup reads the last committed state whatever the
    fix's transaction does; in rollback-journal mode the executor keeps its pages in memory
    until COMMIT (a large page cache), so its transaction never needs the backup's read lock.
    """

    def __init__(self, take: Callable[[], object], *, background: bool) -> None:
        import threading

        self._take = take
        self._error: BaseException | None = None
        self._thread = (
            threading.Thread(target=self._run, name="dbheal-backup", daemon=True)
            if background
            else None
        )

    def _run(self) -> None:
        try:
            self._take()
        except BaseException as exc:  # reported by `wait`, in the caller's thread
            self._error = exc

    def __enter__(self) -> _BackgroundBackup:
        if self._thread is None:
            self._take()  # in turn: errors propagate as they always did
        else:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Never leave the thread writing into a folder the caller is about to remove.
        if self._thread is not None:
            self._thread.join()

    def wait(self) -> VerifyCheck:
        """Wait for the backup; return whether it was taken."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            return VerifyCheck("backup", False, f"no backup, so no fix: {self._error}")
        when = "beside the rebuild, before its commit" if self._thread else "before the fix"
        return VerifyCheck("backup", True, f"taken {when}")

    def then(
        self, check: Callable[[sqlite3.Connection], VerifyReport]
    ) -> Callable[[sqlite3.Connection], VerifyReport]:
        """Return `check` preceded by waiting for the backup (run inside the transaction)."""

        def gate(conn: sqlite3.Connection) -> VerifyReport:
            taken = self.wait()
            if not taken.ok:
                return VerifyReport((taken,))
            return VerifyReport((taken, *check(conn).checks))

        return gate


def _plan_key(plan: MigrationPlan) -> str:
    """What a plan changes: two plans with the same key are the same fix."""
    if plan.kind in ("change_type", "add_column"):
        return f"{plan.kind}:{plan.table}:{plan.column}:{plan.new_type}".lower()
    return plan.id


def _sql_set(plan: MigrationPlan) -> set[str]:
    return {" ".join(step.sql.split()) for step in plan.steps if step.kind == "sql"}


def _same_target(a: MigrationPlan, b: MigrationPlan) -> bool:
    """Return whether two plans make the same change (one may be planned again, or be the
    plan of its whole migration file): the same key, or migration statements in common."""
    if _plan_key(a) == _plan_key(b) or a.id == b.id:
        return True
    # Statements taken from the migrations (nothing new to write) name their targets exactly.
    from_migrations = not a.migration_name and not b.migration_name
    kinds = ("create_table", "add_column", "create_index", "create_trigger")
    return (
        from_migrations and a.kind in kinds and b.kind in kinds and bool(_sql_set(a) & _sql_set(b))
    )


def _stored_plan(entry: QueueEntry) -> MigrationPlan | None:
    """Return the plan of a queue entry, None when its payload is not a schema plan."""
    try:
        return from_json(MigrationPlan, entry.payload_json)
    except (ValueError, KeyError, TypeError):
        return None


def _same_issue(found: Issue, issue: Issue) -> bool:
    return found.type is issue.type and (
        found.fingerprint == issue.fingerprint or found.span == issue.span
    )


def next_migration_path(folder: Path, name: str) -> Path:
    """Return the path of the next migration of `folder`: the next number, as wide as theirs."""
    numbers: list[tuple[int, int]] = []
    for path in migration_files(folder):
        m = re.match(r"(\d+)", path.name)
        if m:
            numbers.append((int(m.group(1)), len(m.group(1))))
    number = max((n for n, _ in numbers), default=0) + 1
    width = max((w for _, w in numbers), default=3)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "dbheal_fix"
    return folder / f"{number:0{width}d}_{slug}.sql"


def _write_atomically(path: Path, text: str) -> None:
    """Replace the code file `path` with `text` (files.atomic_write: never half-written, a
    link at `path` replaced rather than written through), keeping its permission bits and
    its encoding (a coding line's, a BOM)."""
    try:
        mode: int | None = os.stat(path).st_mode
        encoding = python_encoding(read_regular_file(path, max_bytes=MAX_FILE_BYTES))
    except OSError:
        mode, encoding = None, "utf-8"
    atomic_write(path, text.encode(encoding), mode=mode)
    # The fixed text must still be Python: a failure here is a bug worth a loud error.
    ast.parse(text)


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "FixEngine",
    "FixError",
    "FixOutcome",
    "FixSettings",
    "HealItem",
    "next_migration_path",
    "replace",
]

"""The admin's model: one project, its fix engine and its state file, and what each page shows
and does.

Nothing here plans, applies, checks or records anything itself: scans are `Project.check_paths`,
fixes are `FixEngine` (the one safety layer every front door uses), the history, queue, events
and scans are the project's `.dbheal/state.sqlite` through `StateStore`, and the texts of plans,
dry runs and outcomes are the CLI's own (`dbheal_lsp.fixes.present`). The engine is not meant for
several threads at once, so every call into it holds one lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dbheal_lsp.analysis.project import Project, load_project
from dbheal_lsp.config import Config, ConfigError, read_pyproject
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.schema_fixes import ON_LOSSY
from dbheal_lsp.fixes.orchestrator import FixEngine, FixError
from dbheal_lsp.fixes.outcome_json import dry_run_error_json, dry_run_json
from dbheal_lsp.fixes.present import outcome_text
from dbheal_lsp.fixes.rollback import RollbackError, plan_rollback, rollback
from dbheal_lsp.fixes.state import StateError, StateStore
from dbheal_lsp.model import (
    CheckResult,
    CodeFix,
    Issue,
    IssueType,
    MigrationPlan,
    Severity,
)
from dbheal_lsp.records import FixRecord, QueueEntry, RuntimeEvent, ScanRecord
from dbheal_lsp.report import summary_line
from dbheal_lsp.settings_file import PYPROJECT, settings_file_name

from . import settings

__all__ = [
    "AdminApp",
    "Dashboard",
    "NotFound",
    "Notice",
    "RollbackPreview",
]

SEVERITIES: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
# Issue types a code fix exists for (fixes/code.py): the Manual Fix page offers these.
CODE_FIX_TYPES = frozenset(
    {
        IssueType.SQL_INJECTION,
        IssueType.TYPE_MISMATCH,
        IssueType.MISSING_COLUMN,
        IssueType.MISSING_TABLE,
    }
)
# Errors that mean "this cannot be done now", shown to the user as they are.
_ENGINE_ERRORS: tuple[type[Exception], ...] = (
    FixError,
    SchemaError,
    ConfigError,
    StateError,
    *DatabaseError,
    OSError,
)
_ENGINE_OR_VALUE_ERRORS: tuple[type[Exception], ...] = (*_ENGINE_ERRORS, ValueError)
_ENGINE_OR_CODE_ERRORS: tuple[type[Exception], ...] = (*_ENGINE_ERRORS, ValueError, SyntaxError)

_T = TypeVar("_T")


class NotFound(Exception):
    """What a request names (an issue, a queued migration) does not exist (any more)."""


@dataclass(frozen=True)
class RollbackPreview:
    """What the rollback confirmation page shows: what rolling a fix back will do, or why it
    is refused."""

    fix_id: str
    title: str
    restore_backup: bool  # the whole-file restore was asked for
    text: str  # the steps ("" when refused)
    refusal: str  # why it is refused ("" when it can run)
    can_restore: bool = False  # refused, but restoring the backup explicitly would undo it
    losses: str = ""  # what the restore drops ("" when nothing)

    @property
    def digest(self) -> str:
        """A digest of what was shown: the POST must carry it, so only that is run."""
        data = "\0".join((self.fix_id, str(self.restore_backup), self.text))
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Notice:
    """What an action did, shown once on the next page: the first line is the headline."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows."""

    result: CheckResult
    by_severity: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    last_scan: ScanRecord | None
    scans: list[ScanRecord]  # oldest first, for the chart
    queued: list[QueueEntry]
    events: list[RuntimeEvent]
    scan_error: str | None


@dataclass
class _Scan:
    result: CheckResult | None = None
    error: str | None = None


class AdminApp:
    """One project as the admin serves it."""

    def __init__(self, root: Path) -> None:
        """Load the project at `root` (raise ConfigError for an invalid configuration)."""
        self.root = root.resolve()
        self._lock = threading.RLock()
        self.project: Project = load_project(self.root)
        self.engine = FixEngine(self.project)
        self._scan = _Scan()

    # --- access -------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The project's effective configuration."""
        return self.project.config

    @property
    def store(self) -> StateStore:
        """The project's .dbheal/state.sqlite (the one the CLI and the editor use)."""
        return self.engine.store

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the engine for one request."""
        with self._lock:
            yield

    def close(self) -> None:
        """Close the state file."""
        with self._lock:
            self.store.close()

    # --- scanning -----------------------------------------------------------------------------

    def result(self) -> CheckResult:
        """Return the last scan's result, scanning first if there is none yet."""
        with self._lock:
            if self._scan.result is None:
                self.scan()
            return self._scan.result or CheckResult()

    @property
    def scan_error(self) -> str | None:
        """Why the last scan failed, if it did."""
        return self._scan.error

    def scan(self) -> Notice:
        """Check the whole project now and record the scan (trigger "manual")."""
        with self._lock:
            start = time.perf_counter()
            try:
                result = self.project.check_paths([self.root])
            except _ENGINE_ERRORS as exc:
                self._scan = _Scan(CheckResult(), str(exc))
                return Notice(False, f"The scan failed: {exc}")
            duration = (time.perf_counter() - start) * 1000
            self._scan = _Scan(result)
            text = f"Scanned in {duration:.0f} ms. {summary_line(result)}"
            try:
                self.store.record_scan(
                    "manual",
                    result.files_checked,
                    result.statements_checked,
                    Counter(i.severity.value for i in result.issues),
                    Counter(i.type.value for i in result.issues),
                    duration,
                )
            except StateError as exc:
                text += f"\nThe scan was not recorded: {exc}"
            return Notice(True, text)

    def issue(self, fingerprint: str) -> Issue:
        """Return the issue of the last scan with that fingerprint, or raise NotFound."""
        for issue in self.result().issues:
            if issue.fingerprint == fingerprint:
                return issue
        raise NotFound("This issue is not in the last scan any more: run a scan again.")

    # --- pages --------------------------------------------------------------------------------

    def dashboard(self) -> Dashboard:
        """Return what the dashboard shows."""
        with self._lock:
            result = self.result()
            severities = Counter(i.severity.value for i in result.issues)
            types = Counter(i.type.value for i in result.issues)
            scans = self.store.scans(limit=60)
            return Dashboard(
                result=result,
                by_severity=[(s.value, severities[s.value]) for s in SEVERITIES],
                by_type=sorted(types.items(), key=lambda kv: (-kv[1], kv[0])),
                last_scan=scans[0] if scans else None,
                scans=list(reversed(scans)),
                queued=self.store.queued(),
                events=self.store.events(limit=10),
                scan_error=self.scan_error,
            )

    def history(self) -> list[FixRecord]:
        """Return every fix of the history, newest first."""
        return self.store.fixes()

    def settings_form(self) -> dict[str, str]:
        """Return the Settings form's fields as [tool.dbheal] has them now."""
        try:
            section = read_pyproject(self.root)
        except ConfigError:
            section = {}
        return settings.form_fields(section)

    # --- previews (computed on demand, one issue or one queued migration at a time) ------------

    def issue_fixes(self, fingerprint: str) -> dict[str, Any]:
        """Return the code and schema fixes of one issue with their previews: the diff of a code
        fix; the SQL and the dry run of a schema fix."""
        with self._lock:
            issue = self.issue(fingerprint)
            queued = {e.plan_id: e for e in self.store.queued()}
            code = [self._code_fix_json(f) for f in self._guard(self.engine.code_fixes, issue)]
            plans = self._guard(self.engine.schema_plans, issue)
            schema = []
            for plan in plans:
                item = self._plan_json(plan, issue)
                entry = queued.get(plan.id)
                item["queued"] = entry.id if entry is not None else None
                schema.append(item)
            return {
                "issue": {
                    "fingerprint": issue.fingerprint,
                    "type": issue.type.value,
                    "severity": issue.severity.value,
                    "path": issue.path,
                    "line": issue.span.line,
                    "message": issue.message,
                },
                "code_fixes": code,
                "schema_fixes": schema,
            }

    def entry_plan(self, entry_id: int) -> dict[str, Any]:
        """Return a queued migration with its plan and a dry run (what `migrate plan` prints)."""
        with self._lock:
            try:
                entry, plan = self.engine.queued_plan(entry_id)
            except FixError as exc:
                raise NotFound(str(exc)) from None
            return {
                "entry": {
                    "id": entry.id,
                    "status": entry.status,
                    "severity": entry.severity.value,
                    "kind": entry.kind,
                    "title": entry.title,
                },
                "plan": self._plan_json(plan, None),
                "on_lossy": list(ON_LOSSY),
            }

    def _guard(self, function: Callable[[Issue], tuple[_T, ...]], issue: Issue) -> tuple[_T, ...]:
        try:
            return function(issue)
        except _ENGINE_ERRORS:
            return ()

    def _code_fix_json(self, fix: CodeFix) -> dict[str, Any]:
        from dbheal_lsp.analysis.text_edits import apply_edits, unified_diff

        try:
            source = self.engine.read_source(fix.path)
            diff = unified_diff(fix.path, source, apply_edits(source, fix.edits))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            diff = f"(no preview: {exc})"
        return {
            "id": fix.id,
            "kind": fix.kind,
            "title": fix.title,
            "path": fix.path,
            "diff": diff,
            "source_hash": fix.source_hash,
        }

    def _plan_json(self, plan: MigrationPlan, issue: Issue | None) -> dict[str, Any]:
        try:
            dry = dry_run_json(*self.engine.dry_run(plan, issue))
        except _ENGINE_OR_VALUE_ERRORS as exc:
            dry = dry_run_error_json(str(exc))
        return {
            "id": plan.id,
            "kind": plan.kind,
            "title": plan.title,
            "description": plan.description,
            "expected": plan.expected,
            "sql": plan.sql,
            "dry_run": dry,
        }

    # --- actions ------------------------------------------------------------------------------

    def queue(self, fingerprint: str, plan_id: str) -> tuple[Notice, int | None]:
        """Queue one schema fix of an issue, planned again now; return the entry's id."""
        with self._lock:
            try:
                issue = self.issue(fingerprint)
            except NotFound as exc:
                return Notice(False, str(exc)), None
            plan = next(
                (p for p in self._guard(self.engine.schema_plans, issue) if p.id == plan_id), None
            )
            if plan is None:
                return Notice(False, "This schema fix is not offered any more: plan again."), None
            try:
                entry = self.engine.enqueue(plan, issue.severity)
            except _ENGINE_ERRORS as exc:
                return Notice(False, f"Not queued: {exc}"), None
            return Notice(True, f"Queued migration {entry.id}: {entry.title}"), entry.id

    def queue_all(self) -> Notice:
        """Queue the schema fix of every issue, as `dbheal migrate list` does."""
        with self._lock:
            try:
                for issue in self.result().issues:
                    for plan in self.engine.schema_plans(issue):
                        self.engine.enqueue(plan, issue.severity)
                count = len(self.store.queued())
            except _ENGINE_ERRORS as exc:
                return Notice(False, f"Not queued: {exc}")
            if not count:
                return Notice(True, "No schema fixes queued.")
            return Notice(True, f"{count} schema fix(es) queued.")

    def apply_migration(self, entry_id: int, plan_id: str, on_lossy: str) -> Notice:
        """Apply a queued migration whose plan was shown, as `dbheal migrate apply` does."""
        with self._lock:
            if on_lossy not in ON_LOSSY:
                return Notice(False, f"on lossy must be one of {', '.join(ON_LOSSY)}")
            try:
                outcome = self.engine.apply_queued(entry_id, plan_id=plan_id, on_lossy=on_lossy)
            except FixError as exc:  # not queued (any more), or not the plan that was shown
                return Notice(False, str(exc))
            except _ENGINE_ERRORS as exc:
                return Notice(False, f"cannot apply migration {entry_id}: {exc}")
            self.scan()
            return Notice(outcome.applied, outcome_text(outcome))

    def apply_code(self, fingerprint: str, fix_id: str, source_hash: str) -> Notice:
        """Apply the code fix whose diff was shown, planned again now; refuse if the file changed."""
        with self._lock:
            try:
                issue = self.issue(fingerprint)
            except NotFound as exc:
                return Notice(False, str(exc))
            fixes = self._guard(self.engine.code_fixes, issue)
            fix = next((f for f in fixes if f.id == fix_id), None)
            if fix is None:
                return Notice(False, "This code fix is not offered any more: plan again.")
            if fix.source_hash != source_hash:
                return Notice(False, f"{fix.path} changed since this fix was planned: plan again")
            try:
                outcome = self.engine.apply_code(fix)
            except _ENGINE_OR_CODE_ERRORS as exc:
                return Notice(False, f"cannot apply {fix.title}: {exc}")
            self.scan()
            return Notice(outcome.applied, outcome_text(outcome))

    def rollback_preview(self, fix_id: str, restore_backup: bool = False) -> RollbackPreview:
        """Return what rolling back `fix_id` would do (the confirmation page), changing nothing."""
        with self._lock:
            return self._rollback_preview(fix_id, restore_backup)

    def _rollback_preview(self, fix_id: str, restore_backup: bool) -> RollbackPreview:
        record = self.store.fix(fix_id)
        if record is None:
            raise NotFound(f"no fix {fix_id} in the history")
        try:
            plan = plan_rollback(
                self.store,
                self.root,
                fix_id,
                restore_backup=restore_backup,
                lock_timeout=self.engine.settings.lock_timeout,
            )
        except (RollbackError, StateError, ValueError) as exc:
            return RollbackPreview(
                fix_id, record.title, restore_backup, "", str(exc), record.database is not None
            )
        return RollbackPreview(
            fix_id, record.title, restore_backup, plan.text(self.root), "", False, plan.losses
        )

    def rollback(self, fix_id: str, restore_backup: bool = False, shown: str = "") -> Notice:
        """Roll a fix back, as `dbheal rollback` does, but only as its confirmation page showed
        it: `shown` is that preview's digest, and a rollback that would now do something else
        (rows written meanwhile, say) is not run."""
        with self._lock:
            try:
                preview = self._rollback_preview(fix_id, restore_backup)
            except NotFound as exc:
                return Notice(False, str(exc))
            if preview.refusal:
                return Notice(False, f"refused: {preview.refusal}")
            if not shown or shown != preview.digest:
                return Notice(
                    False,
                    "Not rolled back: what the rollback would do changed since it was shown "
                    "(or it was not shown); look at it again.",
                )
            try:
                done = rollback(
                    self.store,
                    self.root,
                    fix_id,
                    lock_timeout=self.engine.settings.lock_timeout,
                    restore_backup=restore_backup,
                )
            except (RollbackError, StateError, ValueError) as exc:
                return Notice(False, f"refused: {exc}")
            self.scan()
            return Notice(True, f"{done.message} Recorded as {done.id}.")

    def save_settings(self, form: Mapping[str, str]) -> Notice:
        """Write [tool.dbheal] from the Settings form after validating it; reload the project."""
        with self._lock:
            try:
                settings.save(self.root, settings.parse_form(form))
            except ConfigError as exc:
                return Notice(False, f"Not saved: {exc}")
            try:
                project = load_project(self.root)
            except ConfigError as exc:
                return Notice(False, f"Saved, but the project cannot be loaded: {exc}")
            self.store.close()
            self.project = project
            self.engine = FixEngine(project)
            self.scan()
            name = settings_file_name(self.root)
            where = "[tool.dbheal] in " if name == PYPROJECT else ""
            return Notice(True, f"Saved {where}{name}.")

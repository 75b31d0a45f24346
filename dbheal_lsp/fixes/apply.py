"""The executor of schema fixes: one plan, one transaction, verified before it is committed.

`apply_plan` runs a `MigrationPlan` against the database at a path, through its back end
(`databases/schema_fixes.py` `SchemaFixes`; this module imports no driver):

1. Refuse before touching anything when the database is missing or read-only.
2. Open it for writing (busy timeout = `lock_timeout`; SQLite turns foreign keys off there
   when the plan asks for it) and begin the transaction, taking the write lock.
3. Inside the transaction: refuse a stale plan (the schema version), run the steps (a
   ``verify_copy`` step compares the rebuilt table row by row and counts, in the same pass, the
   values that did not convert losslessly: refused unless told what to do with them), then
   check the result: the integrity of the changed table (of the database with
   `full_integrity`), the foreign keys the plan can have broken, every `check_sql` prepares,
   a new index is used by its query (those checks are the back end's), and `extra_check`.
4. COMMIT only if every check passed; otherwise ROLLBACK. Nothing is committed earlier, so a
   process killed at any point leaves the database as it was: SQLite's journal (rollback or
   WAL, whichever the database uses) undoes the unfinished transaction on the next open.

`dry_run` does all of it and always rolls back. `run_steps` is the part every executor
shares, the runtime wrapper's heals included: the steps of a plan, then the caller's checks,
inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.schema_fixes import (
    Connection,
    FixTransaction,
    SchemaFixes,
    schema_fixes_for,
)
from dbheal_lsp.fixes.lossy_policy import (
    ON_LOSSY,
    LossyPolicy,
    engine_of,
    kept_exactly,
    lossy_note,
    lossy_policy,
    lossy_refusal,
    lossy_values,
)
from dbheal_lsp.fixes.refusal import Refused
from dbheal_lsp.model import LossyReport, MigrationPlan, PlanStep, VerifyCheck, VerifyReport


@dataclass(frozen=True)
class ApplyOutcome:
    """What applying one plan did: whether it was committed, and what was checked and seen."""

    applied: bool
    verify: VerifyReport
    lossy: LossyReport | None
    message: str
    schema_version_after: int


#: A check the caller adds inside the transaction, after the plan's own (the re-analysis).
Check = Callable[[FixTransaction], VerifyReport]

C = TypeVar("C", bound=Connection)


@dataclass(frozen=True)
class _Options:
    on_lossy: str | None  # None: as the plan's copy step says (dry runs)
    commit: bool
    full_integrity: bool
    lock_timeout: float
    extra_check: Check | None
    cache_kib: int = 0  # the connection's page cache; 0: SQLite's default


class _Progress:
    """What one run has checked and seen so far, kept when a refusal cuts it short."""

    def __init__(self) -> None:
        self.checks: list[VerifyCheck] = []
        self.lossy: LossyReport | None = None
        self.note = ""


class StepFailed(Exception):
    """A step of a plan that did not run: str() is the database's message (`error`, the
    driver's), or says that no one runs a step of its kind (`error` None). `number` counts
    from 1."""

    def __init__(
        self, number: int, step: PlanStep, message: str, error: Exception | None = None
    ) -> None:
        super().__init__(message)
        self.number = number
        self.step = step
        self.error = error


def run_steps(
    conn: C,
    plan: MigrationPlan,
    verify: Callable[[C], None],
    *,
    verify_copy: Callable[[C], None] | None = None,
) -> None:
    """Run `plan`'s steps inside the caller's open transaction, then `verify(conn)`.

    The one place a plan's statements run: `apply_plan`, both dry runs and the runtime
    wrapper's heals come here. The caller owns the transaction (it begins it, and commits only
    when nothing was raised and its checks passed) and the checks: `verify` runs after the last
    step and `verify_copy` at a ``verify_copy`` step; each records what it checked and raises to
    stop. Raises StepFailed when a step fails (or has a kind nobody runs); nothing is rolled
    back here.
    """
    for number, step in enumerate(plan.steps, 1):
        if step.kind == "sql":
            try:
                conn.execute(step.sql)
            except DatabaseError as exc:
                raise StepFailed(number, step, str(exc), exc) from None
        elif step.kind == "verify_copy" and verify_copy is not None:
            verify_copy(conn)
        else:
            raise StepFailed(number, step, f"unknown step kind {step.kind!r}")
    verify(conn)


def _execute(
    tx: FixTransaction,
    fixes: SchemaFixes,
    path: Path,
    plan: MigrationPlan,
    options: _Options,
    version: int,
    progress: _Progress,
) -> None:
    """Run `plan` inside the open transaction, recording checks and lossy values in `progress`.

    `version` is the schema_version read when the transaction began. Raises Refused when the
    plan must not go on; the caller rolls back.
    """
    _check_version(plan, version, progress.checks)
    plan, lossy = lossy_policy(tx, plan, options.on_lossy)
    if lossy.rebuilds and not any(s.kind == "verify_copy" for s in plan.steps):
        # No verification pass to count lossy values during: scan for them first.
        found = progress.lossy = lossy_values(tx, plan)
        if not found.lossless and lossy.wanted in ("refuse", "abort"):
            raise Refused(lossy_refusal(found, engine_of(tx)), "lossy values")
    indexes_before = tx.index_names() if plan.kind == "create_index" else set()
    try:
        run_steps(
            tx,
            plan,
            lambda t: _verify(t, plan, options, lossy, indexes_before, progress),
            verify_copy=lambda t: _verify_copy(t, plan, lossy, progress),
        )
    except StepFailed as failed:
        raise _step_refusal(tx, fixes, path, plan, lossy, failed, progress) from None


def _check_version(plan: MigrationPlan, version: int, checks: list[VerifyCheck]) -> None:
    """Refuse a plan made for another schema (one made without a version is not checked)."""
    if plan.schema_version < 0:
        return
    detail = f"planned at schema_version {plan.schema_version}, now {version}"
    if version != plan.schema_version:
        raise Refused(
            "the schema changed since this plan was made: plan again", "schema_version", detail
        )
    checks.append(VerifyCheck("schema_version", True, detail))


def _step_refusal(
    tx: FixTransaction,
    fixes: SchemaFixes,
    path: Path,
    plan: MigrationPlan,
    lossy: LossyPolicy,
    failed: StepFailed,
    progress: _Progress,
) -> Refused:
    """Say why a step failed: the lock or a read-only database, else the database's error."""
    where = f"step {failed.number}"
    exc = failed.error
    if exc is None:
        return Refused(str(failed), where)
    if fixes.blocks(exc):
        return Refused(fixes.error_message(exc, path), where)
    message = f"{where} failed: {exc}"
    if lossy.rebuilds and progress.lossy is None:
        # A NOT NULL, UNIQUE, CHECK or STRICT column may reject converted values: say which
        # values, if that is why.
        found = progress.lossy = lossy_values(tx, plan)
        if not found.lossless:
            refusal = lossy_refusal(found, engine_of(tx))
            message = f"{message}; {refusal.removeprefix('refused: ')}"
    return Refused(message, where, f"{exc}: {failed.step.sql}")


def _verify_copy(
    tx: FixTransaction, plan: MigrationPlan, lossy: LossyPolicy, progress: _Progress
) -> None:
    """The verify_copy step: compare the rebuilt table with the old one row by row."""
    # Counting lossy values is part of the comparison's single pass; the rows and examples
    # are looked up only when there are some.
    found = tx.compare_copy(plan)
    if found.lossy_count:
        report = lossy_values(tx, plan)
    else:
        report = LossyReport(plan.table, plan.column or "", plan.new_type or "", found.rows, 0)
    progress.lossy = report
    if not report.lossless and lossy.wanted in ("refuse", "abort"):
        raise Refused(lossy_refusal(report, engine_of(tx)), "lossy values")
    progress.checks.extend(found.report.checks)
    if not found.report.ok:
        failed = found.report.failures()[0]
        raise Refused(f"{failed.name}: {failed.detail}", failed.name, failed.detail)
    if lossy.keeps and not report.lossless:
        progress.checks.append(kept_exactly(tx, plan))


def _verify(
    tx: FixTransaction,
    plan: MigrationPlan,
    options: _Options,
    lossy: LossyPolicy,
    indexes_before: set[str],
    progress: _Progress,
) -> None:
    """The checks after the last step: the lossy values seen, integrity, foreign keys, the
    plan's queries, a new index, and the caller's extra check."""
    if progress.lossy is not None:
        check, progress.note = lossy_note(lossy, progress.lossy, engine_of(tx))
        progress.checks.append(check)
    checks = progress.checks
    checks.append(tx.integrity(plan, options.full_integrity))
    checks.append(tx.foreign_keys(plan))
    checks.extend(tx.prepares(plan))
    if plan.kind == "create_index":
        checks.extend(tx.index_used(plan, indexes_before))
    if options.extra_check is not None:
        try:
            checks.extend(options.extra_check(tx).checks)
        except Exception as exc:  # a failing re-analysis must roll back, not escape mid-way
            checks.append(VerifyCheck("extra check", False, f"{type(exc).__name__}: {exc}"))


def _outcome(
    applied: bool,
    checks: list[VerifyCheck],
    lossy: LossyReport | None,
    message: str,
    version: int,
) -> ApplyOutcome:
    return ApplyOutcome(applied, VerifyReport(tuple(checks)), lossy, message, version)


def _run(db_path: Path | str, plan: MigrationPlan, options: _Options) -> ApplyOutcome:
    path = Path(db_path)
    fixes = schema_fixes_for(path)
    problem = fixes.write_problem(path)
    if problem is not None:
        return _outcome(False, [VerifyCheck("database", False, problem)], None, problem, -1)
    try:
        tx = fixes.open_for_fix(
            path,
            lock_timeout=options.lock_timeout,
            cache_kib=options.cache_kib,
            foreign_keys_off=plan.foreign_keys_off,
        )
    except DatabaseError as exc:
        message = fixes.error_message(exc, path)
        return _outcome(False, [VerifyCheck("database", False, message)], None, message, -1)
    progress = _Progress()
    checks = progress.checks
    # The version is read inside the transaction, so that reporting it never waits for a lock
    # again: unchanged after a rollback, the one read before COMMIT after a commit.
    version = -1
    try:
        try:
            version = tx.begin()
        except DatabaseError as exc:
            raise Refused(fixes.error_message(exc, path), "lock") from None
        _execute(tx, fixes, path, plan, options, version, progress)
        lossy = progress.lossy
        failed = [c for c in checks if not c.ok]
        if failed:
            tx.rollback()
            first = failed[0]
            message = f"rolled back: {first.name} failed" + (
                f": {first.detail}" if first.detail else ""
            )
            return _outcome(False, checks, lossy, message, version)
        if not options.commit:
            tx.rollback()
            return _outcome(
                False, checks, lossy, "dry run: every check passed; rolled back", version
            )
        after = tx.schema_version()
        try:
            tx.commit()
        except DatabaseError as exc:
            # A reader kept the lock COMMIT needs past the timeout: the transaction is still
            # open, and it is rolled back below.
            raise Refused(fixes.error_message(exc, path), "commit") from None
        note = progress.note
        message = f"applied: {plan.title}" + (f" ({note})" if note else "")
        return _outcome(True, checks, lossy, message, after)
    except Refused as refused:
        tx.rollback()
        checks.append(refused.check)
        return _outcome(False, checks, progress.lossy, refused.message, version)
    except DatabaseError as exc:
        tx.rollback()
        message = fixes.error_message(exc, path)
        checks.append(VerifyCheck("database", False, message))
        return _outcome(False, checks, progress.lossy, message, version)
    finally:
        # Never leave a transaction open, whatever was raised (KeyboardInterrupt included).
        tx.close()


def apply_plan(
    db_path: Path,
    plan: MigrationPlan,
    *,
    on_lossy: str = "refuse",
    full_integrity: bool = False,
    lock_timeout: float = 5.0,
    extra_check: Check | None = None,
    cache_kib: int = 0,
) -> ApplyOutcome:
    """Apply `plan` to the database at `db_path` in one verified transaction.

    Nothing is changed (applied=False, `message` says why) when the file is missing or
    read-only, when another connection holds the database locked for longer than
    `lock_timeout` seconds, when the schema changed since the plan was made, when a type
    change has lossy values and `on_lossy` is "refuse" or "abort", when a step fails, or when
    a check fails (`verify` says which): the row-by-row comparison of a rebuilt table,
    ``PRAGMA quick_check`` of the changed table (``integrity_check`` of the whole file with
    `full_integrity`), new ``foreign_key_check`` violations, a `plan.check_sql` statement that
    does not prepare, a create_index whose query does not use the new index, and
    `extra_check(transaction)`, which runs last inside the transaction. "null" stores NULL for
    lossy values and "keep" keeps them byte for byte, or refuses naming those the new column's
    affinity would convert ('007' would become 7). `cache_kib` sets the connection's page cache
    (a rebuild that fits in it writes to the file only at COMMIT).
    """
    if on_lossy not in ON_LOSSY:
        raise ValueError(f"on_lossy must be one of {', '.join(ON_LOSSY)}, not {on_lossy!r}")
    options = _Options(on_lossy, True, full_integrity, lock_timeout, extra_check, cache_kib)
    return _run(db_path, plan, options)


def schema_dry_run(
    db_path: Path,
    plan: MigrationPlan,
    *,
    lock_timeout: float = 5.0,
    extra_check: Check | None = None,
) -> VerifyReport:
    """Run `plan` and its checks on an empty in-memory copy of the database's schema.

    What the data does not decide is checked in milliseconds whatever the size of the
    database: the plan is not stale, every step runs (the views and triggers it drops come
    back), the new schema passes ``quick_check``, and `extra_check` (the orchestrator's
    re-analysis of the code) passes. What the rows decide (lossy values, the copy, foreign
    keys) is checked again by `apply_plan` inside its own transaction before it commits.
    """
    path = Path(db_path)
    fixes = schema_fixes_for(path)
    checks: list[VerifyCheck] = []
    try:
        copy, version = fixes.schema_copy(path, lock_timeout)
    except SchemaError as exc:
        return VerifyReport((Refused(str(exc), "database").check,))
    except DatabaseError as exc:
        return VerifyReport((Refused(fixes.error_message(exc, path), "database").check,))
    options = _Options(None, False, False, lock_timeout, extra_check)
    progress = _Progress()
    try:
        _check_version(plan, version, checks)
        copy.begin()
        _execute(copy, fixes, path, replace(plan, schema_version=-1), options, -1, progress)
        checks.extend(c for c in progress.checks if c.name != "lossy values")
    except Refused as refused:
        checks.extend(c for c in progress.checks if c.name != "lossy values")
        checks.append(refused.check)
    except DatabaseError as exc:
        checks.append(VerifyCheck("schema copy", False, str(exc)))
    finally:
        copy.close()
    return VerifyReport(tuple(checks))


def dry_run(
    db_path: Path,
    plan: MigrationPlan,
    *,
    lock_timeout: float = 5.0,
    extra_check: Check | None = None,
) -> tuple[LossyReport | None, VerifyReport]:
    """Run all of `plan` and its checks in a transaction that is always rolled back.

    Lossy values are treated as the plan's copy step says (not refused), so that the report
    shows whether the rest would work; the LossyReport says how many there are. `extra_check`
    runs where it would before a commit (the orchestrator's re-analysis).
    """
    outcome = _run(db_path, plan, _Options(None, False, False, lock_timeout, extra_check))
    return outcome.lossy, outcome.verify

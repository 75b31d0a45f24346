"""`dbheal heal`: the schema fixes a check asks for, the safe ones applied in turn.

Safe means: a table or column that a migration defines, a missing index, a type change that
loses no value and whose dry run passes. Each one is planned again just before it runs and
goes through the fix engine's safety layer like any other fix.

A type mismatch made by a cast (`int(user_id)`, `parseInt(userId)`) is healed by the code
instead when its type change is not safe (its dry run fails: other statements would break; or
it would lose values): the cast removal, as `dbheal fix` offers it, checked to clear the issue
and add none, planned again just before it is written, the file backed up and the fix recorded
like any code fix. The schema is then left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.schema_fixes import fix_database, schema_fixes_for
from dbheal_lsp.fixes.orchestrator import FixEngine, FixError, FixOutcome
from dbheal_lsp.fixes.plan_targets import plan_key, same_target, sql_set
from dbheal_lsp.model import CheckResult, CodeFix, Issue, IssueType, LossyReport, MigrationPlan

# The order in which heal applies schema fixes: what others build on first.
_KIND_ORDER = MappingProxyType(
    {
        "create_table": 0,
        "add_column": 1,
        "create_index": 3,
        "create_trigger": 2,
        "change_type": 4,
    }
)
_SAFE_FOR_HEAL = frozenset(
    {
        IssueType.MISSING_TABLE,
        IssueType.MISSING_COLUMN,
        IssueType.MISSING_INDEX,
        IssueType.TYPE_MISMATCH,
        IssueType.SCHEMA_DRIFT,
    }
)


@dataclass(frozen=True)
class HealItem:
    """One fix `dbheal heal` would apply, and the issues it resolves."""

    plan: MigrationPlan
    issues: tuple[Issue, ...]
    with_code: bool  # a type change that also removes the cast the change makes redundant
    lossy: LossyReport | None = None
    blocked: str = ""  # why a dry run says it would fail (the code would break, say)
    # When the type change is not safe: the cast removal that heals the mismatch in the code
    # instead (checked: it clears its issue and adds none), planned with the item.
    code_fix: CodeFix | None = None

    @property
    def safe(self) -> bool:
        """Return whether heal applies it: lossless, and its dry run passes."""
        return not self.blocked and (self.lossy is None or self.lossy.lossless)

    @property
    def by_code(self) -> bool:
        """Return whether heal applies the item's code fix instead of its schema change."""
        return not self.safe and self.code_fix is not None


def heal_items(engine: FixEngine, result: CheckResult) -> list[HealItem]:
    """Return the schema fixes `dbheal heal` would apply for `result`, in order."""
    items = [_item(engine, plan, issues) for plan, issues in _plans(engine, result)]
    items.sort(key=lambda item: _KIND_ORDER.get(item.plan.kind, 9))
    return items


def heal(engine: FixEngine, items: Sequence[HealItem]) -> list[FixOutcome]:
    """Apply every safe item, each planned again just before it runs; an item that is not
    safe but has a code fix gets that code fix instead.

    One item that cannot be planned or applied is refused with its reason; the others go
    on (each fix is its own transaction, so a refused one has changed nothing).
    """
    from dbheal_lsp.databases.database import SchemaError

    # What refuses one item and lets the others go on.
    refusals: tuple[type[Exception], ...] = (
        FixError,
        SchemaError,
        ValueError,
        OSError,
        *DatabaseError,
    )
    outcomes: list[FixOutcome] = []
    for item in items:
        if not item.safe and not item.by_code:
            continue
        try:
            if item.by_code:
                outcomes.append(_heal_by_code(engine, item))
                continue
            plan = engine.replan(item.plan, item.issues)
            if plan is None:
                # An earlier fix did this one too (an index that came with its column, say).
                outcomes.append(FixOutcome(True, f"already done: {item.plan.title}"))
                continue
            issue = item.issues[0]
            then_code = engine.cast_fix(issue) if item.with_code else None
            outcomes.append(engine.apply_schema(plan, issue=issue, then_code=then_code))
        except refusals as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            outcomes.append(FixOutcome(False, f"refused: {item.plan.title}: {reason}"))
    return outcomes


def _plans(engine: FixEngine, result: CheckResult) -> list[tuple[MigrationPlan, list[Issue]]]:
    """Return the plans heal may apply for `result`, one per change, with the issues of each."""
    by_plan: dict[str, tuple[MigrationPlan, list[Issue]]] = {}
    for issue in sorted(result.issues, key=lambda i: -i.severity.rank):
        if issue.type not in _SAFE_FOR_HEAL:
            continue
        if issue.type is IssueType.MISSING_TABLE and issue.origin is None:
            continue  # a typo, not a missing migration: a person decides
        if issue.type is IssueType.MISSING_COLUMN and issue.origin is None:
            continue
        for plan in engine.schema_plans(issue):
            # Two issues may ask for the same change (a drifted column on a query and on its
            # migration, two tables of one migration file): one fix serves both, the
            # whole file's plan over the plan of one of its parts.
            key = next((k for k, v in by_plan.items() if same_target(v[0], plan)), None)
            if key is None:
                by_plan[plan_key(plan)] = (plan, [issue])
            else:
                kept, issues = by_plan[key]
                bigger = sql_set(plan) > sql_set(kept)
                by_plan[key] = (plan if bigger else kept, [*issues, issue])
            break
    return list(by_plan.values())


def _item(engine: FixEngine, plan: MigrationPlan, issues: list[Issue]) -> HealItem:
    """Return the heal item of `plan`: a type change is looked at for lost values, then tried."""
    lossy = None
    blocked = ""
    database = fix_database(engine.project.config)
    if plan.kind == "change_type" and database is not None and plan.column:
        lossy = schema_fixes_for(database).lossy_report(database, plan)
        if lossy.lossless:
            # A type change can break other queries of the column: try it first.
            _, verify = engine.dry_run(plan, issues[0], schema_only=True)
            blocked = "; ".join(f"{c.name}: {c.detail}" for c in verify.failures())
    with_code = any(i.type is IssueType.TYPE_MISMATCH and i.helper for i in issues)
    code_fix = None
    if with_code and (blocked or (lossy is not None and not lossy.lossless)):
        code_fix = _cast_removal(engine, issues)
    return HealItem(plan, tuple(issues), with_code, lossy, blocked, code_fix)


def _cast_removal(engine: FixEngine, issues: Sequence[Issue]) -> CodeFix | None:
    """Return the checked code fix removing the cast of the first of `issues` that has one."""
    for issue in issues:
        if issue.type is IssueType.TYPE_MISMATCH and issue.helper:
            fix = _remove_cast(engine, issue)
            if fix is not None:
                return fix
    return None


def _remove_cast(engine: FixEngine, issue: Issue, source: str | None = None) -> CodeFix | None:
    """Return the checked code fix of `issue` that removes its cast, if there is one."""
    return next((f for f in engine.code_fixes(issue, source) if f.kind == "remove_cast"), None)


def _heal_by_code(engine: FixEngine, item: HealItem) -> FixOutcome:
    """Write the cast removal of `item` instead of its type change, planned again against the
    file as it is now (an earlier fix of heal may have edited it)."""
    planned = item.code_fix
    assert planned is not None
    source = engine.read_source(planned.path)
    now = engine.project.check_source(planned.path, source)
    issue = next((i for i in now.issues if i.fingerprint == planned.issue_fingerprint), None)
    if issue is None:
        return FixOutcome(True, f"already done: {planned.title}")
    fix = _remove_cast(engine, issue, source)
    if fix is None:
        return FixOutcome(False, f"refused: {planned.title}: it no longer clears its issue")
    outcome = engine.apply_code(fix)
    if not outcome.applied:
        return outcome
    what = "type change" if item.blocked else "lossy type change"
    return replace(outcome, message=f"edited {fix.path} instead of the {what}: {fix.title}")

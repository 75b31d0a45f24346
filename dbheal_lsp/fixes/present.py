"""Fix values as text for people: plans, dry runs, lossy and verify reports, outcomes, heal.

The one place these texts are written, so that `dbheal fix|migrate|heal` and the admin page say
the same thing in the same words. Nothing here prints: callers put the texts where they go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyReport

if TYPE_CHECKING:
    from dbheal_lsp.fixes.heal import HealItem
    from dbheal_lsp.fixes.orchestrator import FixOutcome


def plan_text(plan: MigrationPlan) -> str:
    """Return a schema plan as `dbheal migrate plan` shows it: title, what and why, its SQL."""
    return f"{plan.title}\n{plan.description}\nExpected: {plan.expected}\n\n{plan.sql}\n"


# What the CLI and the admin page offer when a type change would lose values.
ON_LOSSY_ADVICE = "choose --on-lossy=null or --on-lossy=keep to go ahead"


def lossy_text(lossy: LossyReport, *, advice: str = ON_LOSSY_ADVICE) -> str:
    """Return in one line whether a type change keeps every value, or which it would lose and
    `advice` (what the reader can do about it: a front door without --on-lossy says its own)."""
    where = f"{lossy.table}.{lossy.column}"
    if lossy.lossless:
        return f"All {lossy.total_rows} values of {where} convert to {lossy.new_type} without loss."
    rowids = ", ".join(str(r) for r in lossy.first_rowids)
    examples = ", ".join(lossy.examples)
    # A server's examples name their rows themselves (PostgreSQL's ctid), without rowids.
    shown = f"rowids {rowids}: {examples}" if rowids else examples
    return (
        f"{lossy.lossy_count} of {lossy.total_rows} values of {where} would "
        f"not convert to {lossy.new_type} without loss ({shown}); {advice}"
    )


def verify_text(verify: VerifyReport) -> str:
    """Return the checks of a verification, one indented line each: ok or FAIL, name, detail."""
    return "\n".join(
        f"  {'ok  ' if c.ok else 'FAIL'} {c.name}{': ' + c.detail if c.detail else ''}"
        for c in verify.checks
    )


def dry_run_status(verify: VerifyReport) -> str:
    """Return the headline of a dry run: whether applying would succeed."""
    return f"Dry run: {'would succeed' if verify.ok else 'would FAIL'}"


def dry_run_text(lossy: LossyReport | None, verify: VerifyReport) -> str:
    """Return a dry run as `dbheal migrate plan` shows it: the lossy report, status, checks."""
    lines = [lossy_text(lossy)] if lossy is not None else []
    lines += [dry_run_status(verify), verify_text(verify)]
    return "\n".join(lines)


def outcome_line(outcome: FixOutcome) -> str:
    """Return the one line saying whether a fix was applied, and as which fix of the history."""
    fix_id = outcome.record.id if outcome.record else "-"
    return f"[{'applied' if outcome.applied else 'not applied'}] {outcome.message} (fix {fix_id})"


def outcome_text(outcome: FixOutcome) -> str:
    """Return all an outcome says: its line, values it lost, its checks, its file, its diff."""
    lines = [outcome_line(outcome)]
    if outcome.lossy is not None and not outcome.lossy.lossless:
        lines.append(lossy_text(outcome.lossy))
    if outcome.verify.checks:
        lines.append(verify_text(outcome.verify))
    if outcome.migration_file:
        lines.append(f"  wrote {outcome.migration_file}")
    if outcome.diff:
        lines.append(outcome.diff.rstrip("\n"))
    return "\n".join(lines)


def heal_item_text(number: int, item: HealItem, skipped: str) -> str:
    """Return one numbered item of the list `dbheal heal` shows before it asks.

    `skipped` says why it will not be applied ("" when it will).
    """
    extra = " + remove the cast it makes redundant" if item.with_code else ""
    tag = f"  [skipped: {skipped}]" if skipped else ""
    lines = [f"  {number}. {item.plan.title}{extra} ({len(item.issues)} issue(s)){tag}"]
    if item.lossy is not None and not item.lossy.lossless:
        lines.append(f"     {lossy_text(item.lossy)}")
    if item.blocked:
        lines.append(f"     {item.blocked}")
    if skipped and item.code_fix is not None:
        lines.append(f"     instead, the code fix: {item.code_fix.title} ({item.code_fix.path})")
    return "\n".join(lines)


def heal_summary(
    listed: int, outcomes: Sequence[FixOutcome], blocked: int, lossy: int, by_code: int = 0
) -> str:
    """Return the line that ends `heal`: healed N of the M it listed (`by_code` of them by a
    code fix instead of their type change), and why not the others."""
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
    instead = f" ({by_code} by a code fix instead of a type change)" if by_code else ""
    return f"Healed {applied} of {listed} listed{instead}{why}."

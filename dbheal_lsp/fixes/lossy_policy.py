"""How a run of a type change treats the values that do not convert losslessly: refused,
stored as NULL, or kept (and then checked to be kept byte for byte), with the sentences that
say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbheal_lsp.databases.schema_fixes import ON_LOSSY, FixTransaction, JudgingTransaction
from dbheal_lsp.fixes.refusal import Refused
from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyCheck


def lossy_refusal(lossy: LossyReport, engine: str = "SQLite") -> str:
    """Say why a run with `lossy` values was refused: how many, where, examples, and how to go
    on on `engine` (the database's name as messages give it: `engine_of`)."""
    rowids = ", ".join(str(r) for r in lossy.first_rowids)
    where = f" (rowids {rowids}{', ...' if lossy.lossy_count > len(lossy.first_rowids) else ''})"
    examples = ", ".join(lossy.examples[:3])
    if engine == "SQLite":
        keep = "on_lossy='keep' keeps them if SQLite does not convert them"
    else:
        # A server's column holds values of its type only: each one converts, or the change
        # fails (a value that would change is refused by the check that it is kept).
        keep = f"on_lossy='keep' cannot keep them: {engine} converts each value or rejects it"
    return (
        f"refused: {lossy.lossy_count} of {lossy.total_rows} value(s) of "
        f"{lossy.table}.{lossy.column} would not convert losslessly to {lossy.new_type}"
        f"{where if rowids else ''}{f', e.g. {examples}' if examples else ''}; nothing was "
        f"changed (on_lossy='null' stores NULL instead, {keep})"
    )


def engine_of(tx: FixTransaction) -> str:
    """The database's name as messages give it: a server's transaction judges statements
    itself, and its judge names it; otherwise the file is SQLite's."""
    if isinstance(tx, JudgingTransaction):
        judge = tx.own_judge()
        try:
            return judge.engine
        finally:
            judge.close()
    return "SQLite"


@dataclass(frozen=True)
class LossyPolicy:
    """How one run treats values that do not convert losslessly."""

    rebuilds: bool  # a type change of a column: the table is rebuilt and copied
    wanted: str  # what is done with them: "null", "keep", "refuse" or "abort"
    keeps: bool  # keeping them was asked for: every one must then be kept byte for byte


def lossy_policy(
    tx: FixTransaction, plan: MigrationPlan, on_lossy: str | None
) -> tuple[MigrationPlan, LossyPolicy]:
    """Return the plan to run (made again for another treatment of lossy values if need be)
    and how its lossy values are treated; `on_lossy` None is a dry run's: as the plan says."""
    rebuilds = plan.kind == "change_type" and plan.column is not None
    planned = tx.lossy_mode(plan)
    # A dry run refuses nothing: it shows what the plan's own copy would do.
    wanted = on_lossy or ("null" if planned == "null" else "keep")
    # Keeping lossy values was asked for (not only a dry run's way of going on): every one
    # must then be kept byte for byte.
    keeps = wanted == "keep" and (on_lossy == "keep" or planned == "keep")
    if rebuilds and wanted in ("null", "keep") and (wanted == "null") != (planned == "null"):
        # The plan was made for another treatment of lossy values. The schema is the one it
        # was made for (checked before), so the same plan with the copy asked for here is made
        # inside this transaction.
        plan = _replan(tx, plan, wanted)
    return plan, LossyPolicy(rebuilds, wanted, keeps)


def lossy_note(
    lossy: LossyPolicy, found: LossyReport, engine: str = "SQLite"
) -> tuple[VerifyCheck, str]:
    """Return the check saying how many lossy values a run saw, and what became of them ("" when
    there were none) on `engine`."""
    check = VerifyCheck(
        "lossy values",
        True,
        f"{found.lossy_count} of {found.total_rows} value(s) would not convert losslessly",
    )
    if found.lossless:
        return check, ""
    treated = (
        "set to NULL"
        if lossy.wanted == "null"
        else "kept byte for byte"
        if lossy.keeps
        else f"kept as {engine} converted them"
    )
    return check, f"{found.lossy_count} lossy value(s) {treated}"


def kept_exactly(tx: FixTransaction, plan: MigrationPlan) -> VerifyCheck:
    """Check that the copy kept every lossy value as it was, or raise Refused naming them.

    An INTEGER, REAL or NUMERIC column converts text that reads as a number on every write
    ('007' is stored as 7, '1e3' as 1000), so such a value cannot be kept: refusing, with the
    values and what they would become, is the only way not to change one silently.
    """
    try:
        found = tx.rewritten_values(plan, 5)
    except ValueError as exc:
        raise Refused(f"cannot check the kept values: {exc}", "lossy values kept") from None
    if found.count:
        shown = "; ".join(found.examples) + ("; ..." if found.count > len(found.examples) else "")
        message = (
            f"refused: on_lossy='keep' cannot keep {found.count} of the {found.lossy} lossy "
            f"value(s) of {plan.table}.{plan.column} as they are: a column declared "
            f"{plan.new_type} converts them ({shown}); nothing was changed (change them first, "
            "or on_lossy='null' stores NULL instead)"
        )
        raise Refused(message, "lossy values kept", message.removeprefix("refused: "))
    return VerifyCheck(
        "lossy values kept", True, f"all {found.lossy} lossy value(s) kept byte for byte"
    )


def lossy_values(tx: FixTransaction, plan: MigrationPlan) -> LossyReport:
    """Return the values of the column `plan` changes that would not convert losslessly."""
    try:
        return tx.lossy_report(plan)
    except ValueError as exc:
        raise Refused(f"cannot change the type: {exc}", "lossy values") from None


def _replan(tx: FixTransaction, plan: MigrationPlan, on_lossy: str) -> MigrationPlan:
    try:
        return tx.change_type_plan(plan, on_lossy)
    except ValueError as exc:
        raise Refused(f"cannot change the type: {exc}", "plan") from None


__all__ = [
    "ON_LOSSY",
    "LossyPolicy",
    "engine_of",
    "kept_exactly",
    "lossy_note",
    "lossy_policy",
    "lossy_refusal",
    "lossy_values",
]

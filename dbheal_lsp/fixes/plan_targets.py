"""What a schema plan changes, so that two plans of one change count as one fix.

The queue keeps one entry per change, and heal applies each change once, with these rules.
"""

from __future__ import annotations

from dbheal_lsp.model import MigrationPlan

# Plans whose statements, taken from the migrations, name their targets exactly.
_NAMED_KINDS = ("create_table", "add_column", "create_index", "create_trigger")


def plan_key(plan: MigrationPlan) -> str:
    """Return what a plan changes: two plans with the same key are the same fix."""
    if plan.kind in ("change_type", "add_column"):
        return f"{plan.kind}:{plan.table}:{plan.column}:{plan.new_type}".lower()
    return plan.id


def sql_set(plan: MigrationPlan) -> set[str]:
    """Return the plan's SQL statements, whitespace normalised (a whole migration file's plan
    holds the statements of the plans of its parts)."""
    return {" ".join(step.sql.split()) for step in plan.steps if step.kind == "sql"}


def same_target(a: MigrationPlan, b: MigrationPlan) -> bool:
    """Return whether two plans make the same change (one may be planned again, or be the
    plan of its whole migration file): the same key, or migration statements in common."""
    if plan_key(a) == plan_key(b) or a.id == b.id:
        return True
    from_migrations = not a.migration_name and not b.migration_name
    return (
        from_migrations
        and a.kind in _NAMED_KINDS
        and b.kind in _NAMED_KINDS
        and bool(sql_set(a) & sql_set(b))
    )

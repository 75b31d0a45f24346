"""The migration queue's upkeep: one entry per change, each entry's plan kept current.

Schema fixes wait in the queue of .dbheal/state.sqlite until a person applies them. A change
planned again (or asked for by another issue) joins the entry that has it; when the schema
changes, every entry takes the plan made now, or leaves the queue when nothing asks for it.
The fix engine plans; these functions decide what the queue keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from dbheal_lsp.codec import from_json, to_json
from dbheal_lsp.databases.schema_fixes import schema_fixes_for
from dbheal_lsp.fixes.plan_targets import same_target, sql_set
from dbheal_lsp.fixes.state import StateError, StateStore
from dbheal_lsp.model import MigrationPlan, Severity
from dbheal_lsp.records import QueueEntry


def enqueue(
    store: StateStore, plan: MigrationPlan, severity: Severity, database: str | None
) -> QueueEntry:
    """Queue `plan` (for the project's `database`, as the history names it); return its entry.

    A plan for the target of a queued entry (the same change, planned again or for another
    issue) is not queued twice: that entry takes the newer plan and keeps its id.
    """
    for entry in store.queued():
        stored = stored_plan(entry)
        if stored is not None and same_target(stored, plan):
            if sql_set(plan) < sql_set(stored):
                return entry  # one part of the migration file the entry applies whole
            return give(store, entry, plan) or entry
    return store.enqueue(
        plan.id,
        plan.kind,
        plan.title,
        severity,
        to_json(plan),
        issue_fingerprint=plan.issue_fingerprint,
        database=database,
    )


def requeue(
    store: StateStore,
    queued: Sequence[QueueEntry],
    fresh: Sequence[tuple[MigrationPlan, Severity]],
    database: str,
) -> None:
    """Give each `queued` entry of `database` its plan among `fresh` (the plans made now).

    Entries whose change nothing asks for any more leave as "done elsewhere"; of two entries
    for one target the older stays, the other leaves as "dropped"; ids never change.
    """
    taken: list[MigrationPlan] = []
    for entry in sorted(queued, key=lambda e: e.id):
        if entry.database is not None and entry.database != database:
            continue  # queued for another database: judged when that one is used
        stored = stored_plan(entry)
        match = next((p for p, _ in fresh if same_target(stored, p)), None) if stored else None
        if match is None:
            store.set_status(entry.id, "done elsewhere")
        elif any(same_target(match, t) for t in taken):
            store.set_status(entry.id, "dropped")
        else:
            taken.append(match)
            give(store, entry, match)


def one_per_target(
    planned: Iterable[tuple[MigrationPlan, Severity]],
) -> list[tuple[MigrationPlan, Severity]]:
    """Return `planned` (worst severity first) with one plan per target: the first one's
    severity, and the whole migration file's plan over the plan of one of its parts."""
    plans: list[tuple[MigrationPlan, Severity]] = []
    for plan, severity in planned:
        same = next((n for n, p in enumerate(plans) if same_target(p[0], plan)), None)
        if same is None:
            plans.append((plan, severity))
        elif sql_set(plan) > sql_set(plans[same][0]):
            plans[same] = (plan, plans[same][1])
    return plans


def give(store: StateStore, entry: QueueEntry, plan: MigrationPlan) -> QueueEntry | None:
    """Store `plan` as the plan of queued `entry` (unless it is the one stored already)."""
    payload = to_json(plan)
    if payload == entry.payload_json:
        return entry
    try:
        return store.replan_entry(
            entry.id,
            plan.id,
            plan.kind,
            plan.title,
            payload,
            issue_fingerprint=plan.issue_fingerprint,
        )
    except StateError:
        # Another queued entry holds that plan already: this one is its duplicate.
        return store.set_status(entry.id, "dropped")
    except KeyError:
        return None


def stored_plan(entry: QueueEntry) -> MigrationPlan | None:
    """Return the plan of a queue entry, None when its payload is not a schema plan."""
    try:
        return from_json(MigrationPlan, entry.payload_json)
    except (ValueError, KeyError, TypeError):
        return None


def schema_version(database: Path | None) -> int | None:
    """Return the database's schema version now (None: no database file): a plan made at
    another version is made again. Raise SchemaError, saying why in one line, when the file
    is there but cannot be read (not a database, corrupt, locked)."""
    if database is None or not database.exists():
        return None
    return schema_fixes_for(database).schema_version(database)

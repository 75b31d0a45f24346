"""Tests of the migration queue's upkeep: one entry per change, each entry's plan kept current,
through the engine and on a real state file; no mocks."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.codec import to_json
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.fixes.migration_queue import (
    enqueue,
    one_per_target,
    requeue,
    schema_version,
    stored_plan,
)
from dbheal_lsp.fixes.orchestrator import FixEngine
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import MigrationPlan, PlanStep, Severity
from tests.fixes.fix_projects import BOTH, small_project

ORDERS = "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL)"
ITEMS = "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER)"


def _plan(id: str, *sql: str) -> MigrationPlan:
    steps = tuple(PlanStep(s) for s in sql)
    return MigrationPlan(id, "create_table", f"Create {id}", "", "orders", steps, "")


def test_queue_survives_a_new_engine_and_drops_duplicates(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    issue = project.check_paths([project.config.root]).issues[0]
    engine = FixEngine(project)
    (plan,) = engine.schema_plans(issue)
    first = engine.enqueue(plan, Severity.MEDIUM)
    assert engine.enqueue(plan, Severity.MEDIUM).id == first.id
    again = FixEngine(load_project(project.config.root))
    entry, queued = again.queued_plan(first.id)
    assert queued == plan and entry.status == "queued"


def test_queue_keeps_one_entry_per_target_and_replans_on_its_own(tmp_path: Path) -> None:
    project = small_project(tmp_path, BOTH)
    engine = FixEngine(project)
    issue = project.check_paths([project.config.root]).issues[0]
    (plan,) = engine.schema_plans(issue)
    first = engine.enqueue(plan, Severity.MEDIUM)
    # The same target under another plan id (as an older dbheal, or another issue, named it).
    twin = replace(plan, id="change_type:older-name")
    store_twin = engine.store.enqueue(
        twin.id, twin.kind, twin.title, Severity.MEDIUM, to_json(twin)
    )
    assert store_twin.id != first.id
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("CREATE TABLE other (x)")  # the schema changes: every plan is stale
    conn.close()
    entry, fresh = engine.queued_plan(first.id)
    assert entry.id == first.id and entry.status == "queued"
    assert fresh.schema_version != plan.schema_version  # planned again, same id
    assert engine.store.entry(store_twin.id).status == "dropped"  # type: ignore[union-attr]
    outcome = engine.apply_schema(fresh, issue=issue)
    assert outcome.applied, outcome.message
    # Fixed meanwhile: the entry leaves the queue.
    engine.refresh_queue()
    assert engine.store.queued() == []
    assert engine.store.entry(first.id).status == "done elsewhere"  # type: ignore[union-attr]


def test_a_change_planned_again_joins_its_entry_and_a_part_leaves_it_whole(tmp_path: Path) -> None:
    whole = _plan("create_table:002", ORDERS, ITEMS)
    with StateStore(tmp_path) as store:
        entry = enqueue(store, whole, Severity.HIGH, "app.db")
        assert (entry.plan_id, entry.database, entry.severity) == (
            "create_table:002",
            "app.db",
            Severity.HIGH,
        )
        # One part of the migration file: the entry applies the whole file, unchanged.
        part = enqueue(store, _plan("create_table:fp-1", ITEMS), Severity.LOW, "app.db")
        assert part == entry and stored_plan(part) == whole
        # The file grown by a statement: the same entry (same id, age) takes the newer plan.
        grown = _plan("create_table:002b", ORDERS, ITEMS, "CREATE INDEX i ON orders (user_id)")
        joined = enqueue(store, grown, Severity.LOW, "app.db")
        assert joined.id == entry.id and stored_plan(joined) == grown
        assert [e.id for e in store.queued()] == [entry.id]


def test_requeue_keeps_what_is_still_asked_for(tmp_path: Path) -> None:
    orders, items = _plan("create_table:orders", ORDERS), _plan("create_table:items", ITEMS)
    with StateStore(tmp_path) as store:
        first = enqueue(store, orders, Severity.HIGH, "app.db")
        gone = enqueue(store, items, Severity.HIGH, "app.db")
        elsewhere = enqueue(
            store, _plan("create_table:x", "CREATE TABLE x (a)"), Severity.LOW, "other.db"
        )
        # The same change under another id, queued before the queue kept one per change.
        twin = store.enqueue(
            "create_table:orders-old",
            "create_table",
            "twin",
            Severity.LOW,
            to_json(replace(orders, id="create_table:orders-old")),
        )
        fresh = replace(orders, schema_version=7)
        requeue(store, store.queued(), [(fresh, Severity.HIGH)], "app.db")
        status = {e: store.entry(e.id).status for e in (first, gone, elsewhere, twin)}  # type: ignore[union-attr]
        assert status == {
            first: "queued",
            gone: "done elsewhere",
            elsewhere: "queued",
            twin: "dropped",
        }
        assert stored_plan(store.entry(first.id)) == fresh  # type: ignore[arg-type]


def test_one_per_target_keeps_the_first_severity_and_the_whole_file() -> None:
    part = _plan("create_table:fp-1", ITEMS)
    whole = _plan("create_table:002", ORDERS, ITEMS)
    other = _plan("create_table:003", "CREATE TABLE users (a)")
    planned = [(part, Severity.CRITICAL), (other, Severity.HIGH), (whole, Severity.LOW)]
    assert one_per_target(planned) == [(whole, Severity.CRITICAL), (other, Severity.HIGH)]


def test_stored_plan_of_an_entry_that_holds_no_schema_plan(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        entry = store.enqueue("code:fp", "code", "a code fix", Severity.LOW, '{"edits": []}')
    assert stored_plan(entry) is None


def test_schema_version_is_read_from_the_database_now(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    assert schema_version(None) is None and schema_version(db) is None
    conn = sqlite3.connect(db)
    conn.execute(ORDERS)
    conn.commit()
    before = schema_version(db)
    conn.execute(ITEMS)
    conn.commit()
    conn.close()
    assert before is not None and schema_version(db) == before + 1


def test_schema_version_of_a_file_that_is_no_database_says_so(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    db.write_text("hello, not a database\n")
    with pytest.raises(SchemaError, match="is not a SQLite database"):
        schema_version(db)

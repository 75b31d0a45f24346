"""Tests of the state store (.dbheal/state.sqlite): history, queue, runtime events, scans."""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from dbheal_lsp.codec import changes_from_json, changes_to_json, from_json, to_json
from dbheal_lsp.fixes.state import StateError, StateStore
from dbheal_lsp.model import MigrationPlan, Severity, VerifyCheck, VerifyReport
from dbheal_lsp.records import FixRecord, utc_now
from tests.test_codec import CODE_FIX, PLAN, VERIFY


def make_record(store: StateStore, **changes: object) -> FixRecord:
    base = FixRecord(
        id=store.new_fix_id(),
        created_at=utc_now(),
        kind="schema",
        title="Add index on users.email",
        issue_fingerprint="fp-1",
        plan_id="create_index:fp-1",
        plan_text=PLAN.sql,
        plan_json=changes_to_json([PLAN]),
        database="app.sqlite",
        files=(),
        backup_dir=".dbheal/backups/x",
        verify=VERIFY,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --- history ----------------------------------------------------------------------------------


def test_fix_record_round_trip(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        record = make_record(
            store,
            kind="both",
            files=("app/models.py", "migrations/0004_x.sql"),
            plan_json=changes_to_json([PLAN, CODE_FIX]),
            outcome="rolled_back",
            message="done",
            rolled_back_at=utc_now(),
            rollback_of=None,
        )
        stored = store.record_fix(record)
        assert stored == record
        assert store.fix(record.id) == record
        again = store.fix(record.id)
        assert again is not None
        assert again.verify == VERIFY and isinstance(again.verify, VerifyReport)
        assert changes_from_json(again.plan_json) == (PLAN, CODE_FIX)
        assert store.fix("nope") is None


def test_times_are_normalised_to_iso_utc(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        record = make_record(store, created_at="2026-11-24T02:15:12+02:00")
        stored = store.record_fix(record)
        assert stored.created_at == "2026-11-24T00:15:12.000000+00:00"
        assert store.fix(record.id) == stored


def test_duplicate_fix_id_is_refused(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        record = store.record_fix(make_record(store))
        with pytest.raises(StateError, match="already in the history"):
            store.record_fix(record)


def test_new_fix_ids_are_unique_and_sort_by_time(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        before = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        ids = [store.new_fix_id() for _ in range(300)]
        after = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    assert len(set(ids)) == len(ids)
    for fix_id in ids:
        assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{4}", fix_id)
        assert before <= fix_id[:15] <= after


def test_fixes_are_listed_newest_first(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with StateStore(tmp_path) as store:
        ids = []
        for minutes in (5, 1, 3):
            record = make_record(store, created_at=(start + timedelta(minutes=minutes)).isoformat())
            ids.append(store.record_fix(record).id)
        assert [f.id for f in store.fixes()] == [ids[0], ids[2], ids[1]]
        assert [f.id for f in store.fixes(limit=2)] == [ids[0], ids[2]]
        assert [f.id for f in store.fixes_after(ids[1])] == [ids[2], ids[0]]


def test_update_fix(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        record = store.record_fix(make_record(store, outcome="failed", backup_dir=None))
        report = VerifyReport((VerifyCheck("quick_check", True),))
        updated = store.update_fix(
            record.id,
            outcome="applied",
            message="verified",
            verify=report,
            backup_dir=".dbheal/backups/y",
            files=["a.py"],
        )
        assert updated == dataclasses.replace(
            record,
            outcome="applied",
            message="verified",
            verify=report,
            backup_dir=".dbheal/backups/y",
            files=("a.py",),
        )
        assert store.fix(record.id) == updated
        cleared = store.update_fix(record.id, backup_dir=None, database=None)
        assert cleared.backup_dir is None and cleared.database is None
        assert cleared.message == "verified"
        with pytest.raises(KeyError):
            store.update_fix("missing", outcome="failed")


def test_record_rollback_marks_the_fix_once(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        fix = store.record_fix(make_record(store))
        undo = make_record(store, title="Roll back")
        updated = store.record_rollback(fix.id, undo)
        assert updated.outcome == "rolled_back"
        stored_undo = store.fix(undo.id)
        assert stored_undo is not None and stored_undo.rollback_of == fix.id
        assert updated.rolled_back_at == stored_undo.created_at
        with pytest.raises(StateError, match="not applied"):
            store.record_rollback(fix.id, make_record(store))


def test_times_fixed_counts_applied_fixes_in_the_window(tmp_path: Path) -> None:
    now = datetime(2020, 3, 1, 12, 0, tzinfo=timezone.utc)

    def at(minutes_ago: float) -> str:
        return (now - timedelta(minutes=minutes_ago)).isoformat()

    with StateStore(tmp_path) as store:
        for minutes_ago, outcome in ((1, "applied"), (2, "rolled_back"), (3, "failed")):
            store.record_fix(make_record(store, created_at=at(minutes_ago), outcome=outcome))
        store.record_fix(make_record(store, created_at=at(4), outcome="refused"))
        store.record_fix(make_record(store, created_at=at(90), outcome="applied"))
        store.record_fix(make_record(store, created_at=at(1), rollback_of="x"))
        store.record_fix(make_record(store, created_at=at(1), issue_fingerprint="other"))
        assert store.times_fixed("fp-1", 3600, now=now) == 2
        assert store.times_fixed("fp-1", 7200, now=now) == 3
        assert store.times_fixed("fp-1", 30, now=now) == 0
        assert store.times_fixed("other", 3600, now=now) == 1
        assert store.times_fixed("fp-1", 3600) == 0  # the real now is years later


# --- queue ------------------------------------------------------------------------------------


def test_queue_orders_priority_then_severity_then_age(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        low = store.enqueue("p-low", "code", "low", Severity.LOW, "{}")
        high_old = store.enqueue("p-high-1", "schema", "high 1", Severity.HIGH, "{}")
        critical = store.enqueue("p-crit", "schema", "critical", Severity.CRITICAL, "{}")
        high_new = store.enqueue("p-high-2", "schema", "high 2", Severity.HIGH, "{}")
        medium = store.enqueue("p-med", "code", "medium", Severity.MEDIUM, "{}")
        # Same priority as the highs, but less severe: after them.
        boosted = store.enqueue("p-boost", "code", "boosted", Severity.LOW, "{}", priority=2)
        order = [e.plan_id for e in store.queued()]
        assert order == ["p-crit", "p-high-1", "p-high-2", "p-boost", "p-med", "p-low"]
        assert critical.priority == 3 and low.priority == 0 and boosted.priority == 2
        assert high_old.created_at <= high_new.created_at and medium.status == "queued"


def test_enqueue_drops_a_duplicate_while_queued(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        first = store.enqueue(
            "create_index:fp",
            "schema",
            "Add index",
            Severity.HIGH,
            to_json(PLAN),
            issue_fingerprint="fp",
            database="app.sqlite",
        )
        again = store.enqueue("create_index:fp", "schema", "Add index (again)", Severity.HIGH, "{}")
        assert again == first
        assert len(store.queued()) == 1
        applied = store.set_status(first.id, "applied")
        assert applied.status == "applied" and store.queued() == []
        # Once the first is no longer queued, the same plan can be queued again.
        third = store.enqueue("create_index:fp", "schema", "Add index", Severity.HIGH, "{}")
        assert third.id != first.id
        with pytest.raises(StateError, match="already queued"):
            store.set_status(first.id, "queued")
        with pytest.raises(ValueError, match="unknown queue status"):
            store.set_status(third.id, "done")
        with pytest.raises(KeyError):
            store.set_status(9999, "dropped")
        entry = store.entry(first.id)
        assert entry is not None and entry.database == "app.sqlite"
        assert from_json(MigrationPlan, entry.payload_json) == PLAN
        assert store.entry(9999) is None


def test_state_survives_a_new_store(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        record = store.record_fix(make_record(store))
        entry = store.enqueue("p", "code", "t", Severity.CRITICAL, to_json(CODE_FIX))
        event = store.record_event("no such table: users", "SELECT * FROM users")
        scan = store.record_scan("startup", 3, 10, {"critical": 1}, {"MISSING_TABLE": 1}, 12.5)
    with StateStore(tmp_path) as reopened:
        assert reopened.fixes() == [record]
        assert reopened.queued() == [entry]
        assert reopened.events() == [event]
        assert reopened.scans() == [scan]


# --- concurrency ------------------------------------------------------------------------------


def _record_many(root: str, tag: str, count: int, barrier: Any = None) -> None:
    if barrier is not None:
        barrier.wait(timeout=60)  # all start together, on a state file none has created yet
    with StateStore(Path(root)) as store:
        for n in range(count):
            store.record_fix(make_record(store, title=f"{tag} {n}", issue_fingerprint=tag))
            store.record_event(f"{tag} {n}", "SELECT 1")
            store.enqueue("shared-plan", "schema", tag, Severity.HIGH, "{}")
            store.record_scan("periodic", 1, 1, {}, {}, 1.0)


def test_threads_record_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    shared = StateStore(tmp_path)

    def own_store(tag: str) -> None:
        try:
            _record_many(str(tmp_path), tag, 40)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def shared_store(tag: str) -> None:
        try:
            for n in range(40):
                shared.record_fix(make_record(shared, title=f"{tag} {n}", issue_fingerprint=tag))
                shared.record_event(f"{tag} {n}", "SELECT 1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=own_store, args=(f"own{n}",)) for n in range(3)]
    threads += [threading.Thread(target=shared_store, args=(f"shared{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(shared.fixes()) == 240
    assert len(shared.queued()) == 1
    for n in range(3):
        assert shared.times_fixed(f"own{n}", 3600) == 40
    shared.close()


def test_processes_record_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    processes = [
        context.Process(target=_record_many, args=(str(tmp_path), f"proc{n}", 60, barrier))
        for n in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    with StateStore(tmp_path) as store:
        assert len(store.fixes()) == 180
        for n in range(3):
            assert store.times_fixed(f"proc{n}", 3600) == 60
        assert len(store.events(limit=1000)) == 180
        assert len(store.scans(limit=1000)) == 180
        assert len(store.queued()) == 1

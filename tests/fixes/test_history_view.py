"""Tests of the history as `dbheal history` lists it: fixes, rollbacks and the runtime
wrapper's heals, as text and as JSON, on a real state file; no mocks."""

from __future__ import annotations

import json
from pathlib import Path

from dbheal_lsp.fixes.history_view import (
    history_entries,
    history_json,
    record_json,
    record_lines,
    runtime_heals,
)
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import VerifyCheck, VerifyReport
from dbheal_lsp.records import FixRecord
from tests.conftest import run_dbheal


def _history(root: Path) -> tuple[FixRecord, FixRecord]:
    """Record a fix, its rollback, a runtime heal and a runtime error only reported."""
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    with StateStore(root) as store:
        fix = store.record_fix(
            FixRecord(
                id="20261201T100000-aaaa",
                created_at="2026-12-01T10:00:00Z",
                kind="schema",
                title="Add index on orders(customer_email)",
                message="applied: Add index on orders(customer_email)",
                database="app.db",
                verify=VerifyReport(
                    (VerifyCheck("quick_check", True, "ok"), VerifyCheck("index used", True))
                ),
            )
        )
        store.record_rollback(
            fix.id,
            FixRecord(
                id="20261203T100000-bbbb",
                created_at="2026-12-03T10:00:00Z",
                kind="schema",
                title=f"Roll back {fix.id}",
                database="app.db",
            ),
        )
        store.record_event(
            "no such table: user_preferences",
            "SELECT * FROM user_preferences",
            path="app/prefs_job.py",
            line=3,
            action="create table user_preferences",
            outcome="healed: migration 004",
            time="2026-12-02T10:00:00Z",
        )
        store.record_event(
            "no such column: nick",
            "SELECT nick FROM users",
            outcome="reported",
            time="2026-12-02T11:00:00Z",
        )
        undone = store.fix(fix.id)
        rollback = store.fix("20261203T100000-bbbb")
    assert undone is not None and rollback is not None
    return undone, rollback


def test_the_lines_are_what_dbheal_history_prints(tmp_path: Path) -> None:
    undone, rollback = _history(tmp_path)
    with StateStore(tmp_path) as store:
        entries = history_entries(store, 10)
    assert entries == [
        [
            "20261203T100000-bbbb  2026-12-03T10:00:00.000000+00:00  rolled back schema  "
            "Roll back 20261201T100000-aaaa (undoes 20261201T100000-aaaa)"
        ],
        [
            "runtime-1  2026-12-02T10:00:00.000000+00:00  healed      runtime create table "
            "user_preferences (at app/prefs_job.py:3)"
        ],
        [
            "20261201T100000-aaaa  2026-12-01T10:00:00.000000+00:00  undone      schema  "
            "Add index on orders(customer_email) (rolled back 2026-12-03T10:00:00.000000+00:00)",
            "    applied: Add index on orders(customer_email)",
            "    ok   quick_check",
            "    ok   index used",
        ],
    ]
    assert record_lines(undone) == entries[2] and record_lines(rollback) == entries[0]
    shown = run_dbheal(tmp_path, "history")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "".join(line + "\n" for lines in entries for line in lines)


def test_the_json_is_what_dbheal_history_json_prints(tmp_path: Path) -> None:
    undone, _ = _history(tmp_path)
    with StateStore(tmp_path) as store:
        data = history_json(store, 10)
        assert history_json(store, 2) == data[:2]
    assert [(d["id"], d["kind"], d["outcome"]) for d in data] == [
        ("20261203T100000-bbbb", "schema", "applied"),
        ("runtime-1", "runtime", "healed"),
        ("20261201T100000-aaaa", "schema", "rolled_back"),
    ]
    heal = data[1]
    assert heal["title"] == "create table user_preferences"
    assert heal["files"] == ["app/prefs_job.py"] and heal["line"] == 3
    assert heal["error"] == "no such table: user_preferences"
    assert data[2] == record_json(undone)
    assert data[2]["rolled_back_at"] == "2026-12-03T10:00:00.000000+00:00"
    assert data[0]["rollback_of"] == undone.id
    # Both shapes carry the same keys: a reader of the history needs no second case.
    assert set(record_json(undone)) <= set(heal)
    shown = run_dbheal(tmp_path, "history", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == data


def test_only_the_heals_that_changed_the_schema_are_history(tmp_path: Path) -> None:
    _history(tmp_path)
    with StateStore(tmp_path) as store:
        heals = runtime_heals(store, 10)
        assert runtime_heals(store, 0) == []
    assert [e.error for e in heals] == ["no such table: user_preferences"]

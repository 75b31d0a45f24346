"""Tests of the state file's runtime events and scans, and of a CLI check recorded as a scan;
real state files, no mocks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.fixes.state_logs import normal_time, record_cli_scan


def test_runtime_event_round_trip_and_limit(tmp_path: Path) -> None:
    with StateStore(tmp_path, max_events=5) as store:
        full = store.record_event(
            "no such column: nick",
            "SELECT nick FROM users",
            path="app/views.py",
            line=42,
            action="add_column",
            outcome="applied",
            table="users",
            time="2026-11-24T00:00:00Z",
        )
        assert full.time == "2026-11-24T00:00:00.000000+00:00"
        assert store.events() == [full]
        for n in range(7):
            store.record_event(f"error {n}", "SELECT 1")
        events = store.events(limit=100)
        assert [e.error for e in events] == [f"error {n}" for n in (6, 5, 4, 3, 2)]
        assert [e.error for e in store.events(limit=2)] == ["error 6", "error 5"]


def test_scan_round_trip_and_trigger_check(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        scan = store.record_scan(
            "save",
            files=12,
            statements=80,
            counts_by_severity={"critical": 2, "low": 5},
            counts_by_type={"MISSING_COLUMN": 2, "SELECT_STAR": 5},
            duration_ms=731.25,
        )
        assert store.scans() == [scan]
        assert scan.counts_by_severity == {"critical": 2, "low": 5}
        with pytest.raises(ValueError, match="unknown scan trigger"):
            store.record_scan("cron", 0, 0, {}, {}, 0)


def test_times_are_stored_in_utc() -> None:
    assert normal_time("2026-11-24T02:30:00+02:00") == "2026-11-24T00:30:00.000000+00:00"


def test_a_check_of_the_whole_project_is_recorded_where_dbheal_is_used(shop: Path) -> None:
    project = load_project(shop)
    result = project.check_paths([shop])
    # A fresh clone (no .dbheal/ yet) gets nothing written.
    assert not record_cli_scan(shop, [shop], result, 12.5)
    assert not (shop / ".dbheal").exists()
    StateStore(shop).close()
    # One file's issues would look like a drop: not a point of "Issues over time".
    assert not record_cli_scan(shop, [shop / "app"], result, 12.5)
    assert record_cli_scan(shop, [shop], result, 12.5)
    with StateStore(shop) as store:
        [scan] = store.scans()
    assert (scan.trigger, scan.files, scan.statements, scan.duration_ms) == (
        "cli",
        result.files_checked,
        result.statements_checked,
        12.5,
    )
    assert sum(scan.counts_by_severity.values()) == len(result.issues) > 0
    assert scan.counts_by_type == dict(Counter(i.type.value for i in result.issues))

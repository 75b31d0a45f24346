"""Tests of the process-wide state (dbheal_lsp.runtime.process): threads and processes heal
once, and recording never breaks the application."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.runtime.projects import Project, healed, start_workers


def test_two_threads_hit_the_missing_table_at_once(project: Project) -> None:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def work() -> None:
        conn = project.connect()
        barrier.wait()
        try:
            results.append(conn.execute("SELECT id FROM orders").fetchall())
        except Exception as exc:  # pragma: no cover - reported by the assertion
            results.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [[], []]
    assert len(healed(project.events())) == 1


def test_two_processes_hit_the_missing_table_at_once(project: Project, tmp_path: Path) -> None:
    results = start_workers(project, 2, tmp_path)
    assert results == [{"ok": True, "rows": []}, {"ok": True, "rows": []}]
    assert len(healed(project.events())) == 1
    assert ("table", "orders") in project.objects()


def test_an_unwritable_state_folder_never_breaks_the_application(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    (project.root / ".dbheal").write_text("not a folder", encoding="utf-8")
    conn = project.connect()
    with caplog.at_level(logging.WARNING, logger="dbheal_lsp.runtime"):
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        with pytest.raises(sqlite3.OperationalError, match="no such table: nope"):
            conn.execute("SELECT * FROM nope")
    assert any("cannot record runtime events" in r.getMessage() for r in caplog.records)
    assert ("table", "orders") in project.objects()
    conn.close()

"""The Dashboard over HTTP: the counts of the last scan, the scans charted over time."""

from __future__ import annotations

from dbheal_lsp.fixes.state import StateStore

from .conftest import Running, logged_in, notice_for


def test_dashboard_counts_scan_queue_and_chart(admin: Running) -> None:
    client = logged_in(admin)
    admin.app.store.record_event("no such table: oders", "SELECT COUNT(*) FROM oders")
    text = client.get("/").text
    assert '<span class="stat-num">26</span><span class="stat-label">issues</span>' in text
    assert '<span class="stat-num">12</span><span class="stat-label">critical</span>' in text
    assert "SCHEMA_DRIFT" in text and "MISSING_INDEX" in text  # by type
    assert "<dd>manual</dd>" in text  # the last scan's trigger
    assert "no such table: oders" in text  # the runtime event
    assert '<svg class="chart"' in text and "polyline" in text
    assert "No schema fixes queued." in text


def test_scans_are_recorded_as_manual_and_charted(admin: Running) -> None:
    client = logged_in(admin)
    for _ in range(2):
        assert client.post("/actions/scan", {"back": "/fix"}).header("Location") == "/fix"
    scans = StateStore(admin.root).scans()
    assert len(scans) == 3 and {s.trigger for s in scans} == {"manual"}
    assert scans[0].counts_by_severity == {"critical": 12, "high": 7, "medium": 4, "low": 3}
    assert notice_for(client, "/fix").startswith("ok: Scanned in ")
    text = client.get("/").text
    assert text.count('<circle class="dot s-total"') == 3

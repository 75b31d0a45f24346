"""Tests of the admin's model without HTTP: the dashboard, scans, previews and actions of one
project, on a real copy of the demo and its state file; no mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbheal_lsp.admin.app import AdminApp, NotFound, Notice
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import IssueType
from tests.conftest import copy_shop

from .conftest import index_names


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AdminApp]:
    admin = AdminApp(copy_shop(tmp_path))
    try:
        yield admin
    finally:
        admin.close()


def _fingerprint(app: AdminApp, type_: IssueType) -> str:
    return next(i.fingerprint for i in app.result().issues if i.type is type_)


def test_the_dashboard_counts_the_last_scan(app: AdminApp) -> None:
    board = app.dashboard()
    assert len(board.result.issues) == 26
    assert board.by_severity == [("critical", 12), ("high", 7), ("medium", 4), ("low", 3)]
    counts = [n for _, n in board.by_type]
    assert counts == sorted(counts, reverse=True) and sum(counts) == 26
    assert board.last_scan is not None and board.last_scan.trigger == "manual"
    assert board.queued == [] and board.scan_error is None
    notice = app.scan()
    assert notice.ok and notice.text.startswith("Scanned in ")
    assert [s.trigger for s in StateStore(app.root).scans()] == ["manual", "manual"]


def test_an_issue_not_in_the_last_scan_is_not_found(app: AdminApp) -> None:
    with pytest.raises(NotFound, match="not in the last scan"):
        app.issue("nope")
    with pytest.raises(NotFound):
        app.issue_fixes("nope")
    assert app.queue("nope", "x") == (
        Notice(False, "This issue is not in the last scan any more: run a scan again."),
        None,
    )
    with pytest.raises(NotFound, match="no fix f1 in the history"):
        app.rollback_preview("f1")


def test_a_migration_is_queued_applied_and_rolled_back_only_as_shown(app: AdminApp) -> None:
    fp = _fingerprint(app, IssueType.MISSING_INDEX)
    fixes = app.issue_fixes(fp)
    (plan,) = fixes["schema_fixes"]
    assert plan["dry_run"]["status"] == "Dry run: would succeed" and plan["queued"] is None
    notice, entry = app.queue(fp, plan["id"])
    assert notice.ok and entry is not None
    assert notice.text == f"Queued migration {entry}: {plan['title']}"
    assert app.issue_fixes(fp)["schema_fixes"][0]["queued"] == entry
    assert app.entry_plan(entry)["plan"]["sql"] == plan["sql"]
    assert not app.apply_migration(entry, plan["id"], "sometimes").ok
    assert not app.apply_migration(entry, "another plan", "refuse").ok
    done = app.apply_migration(entry, plan["id"], "refuse")
    assert done.ok, done.text
    assert "idx_orders_customer_email" in index_names(app.root)
    (record,) = app.history()
    preview = app.rollback_preview(record.id)
    assert preview.refusal == "" and "DROP INDEX" in preview.text
    blind = app.rollback(record.id)
    assert not blind.ok and blind.text.startswith("Not rolled back")
    assert "idx_orders_customer_email" in index_names(app.root)
    back = app.rollback(record.id, shown=preview.digest)
    assert back.ok and back.text.startswith(f"Rolled back {record.id}")
    assert "idx_orders_customer_email" not in index_names(app.root)
    again = app.rollback(record.id, shown=preview.digest)
    assert not again.ok and again.text.startswith("refused: ")


def test_invalid_settings_are_not_saved(app: AdminApp) -> None:
    before = (app.root / "pyproject.toml").read_text()
    form = {**app.settings_form(), "jobs": "many"}
    notice = app.save_settings(form)
    assert not notice.ok and notice.text.startswith("Not saved: ")
    assert (app.root / "pyproject.toml").read_text() == before

"""Diagnostics end to end: what an editor is shown, pushed or pulled, and where.

The real server over stdio on a copy of the demo, driven by tests/lsp/client.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.conftest import copy_shop
from tests.lsp.client import (
    ALL_CLIENTS,
    CLIENTS,
    RULES,
    SEVERITY,
    WAIT,
    character,
    check_json,
    diagnostics,
    of_type,
    open_doc,
    save_doc,
    session,
    until,
    uri_of,
)

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_open_and_save_give_the_issues_of_dbheal_check(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    rel = "app/store/catalog.py"  # line 58 has é, è and 🍵 before the misspelt column
    expected = check_json(shop, rel)
    assert len(expected) == 6  # examples/shop/EXPECTED.md rows 7-11 and 25
    lines = (shop / rel).read_text(encoding="utf-8").splitlines()
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / rel)
        found = await diagnostics(
            client, uri, lambda d: len(d) == len(expected), version=None if client.pulls else 1
        )
        got = sorted(
            (
                d.code,
                d.severity,
                d.range.start.line,
                d.range.start.character,
                d.range.end.line,
                d.range.end.character,
                d.message,
            )
            for d in found
        )
        want = sorted(
            (
                i["type"],
                SEVERITY[i["severity"]],
                i["line"] - 1,
                character(lines[i["line"] - 1], i["column"], client.encoding),
                i["end_line"] - 1,
                character(lines[i["end_line"] - 1], i["end_column"], client.encoding),
                i["message"],
            )
            for i in expected
        )
        assert got == want
        for d in found:
            assert d.source == "dbheal"
            assert isinstance(d.data, dict) and d.data["fingerprint"]
            if client_name == "visual-studio-code":
                assert d.code_description is not None
                assert d.code_description.href == RULES + str(d.code).lower()
        # EXPECTED.md row 10: UTF-16 unit 114 (VS Code), UTF-8 byte 119 (Neovim's choice).
        (typo,) = of_type(found, "MISSING_COLUMN")
        assert typo.range.start.line == 57
        assert typo.range.start.character == {"utf-16": 114, "utf-8": 119}[client.encoding]

        since = len(client.published)
        save_doc(client, uri)
        again = await diagnostics(client, uri, since=since)
        assert sorted(d.message for d in again) == sorted(d.message for d in found)


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_missing_table_points_at_the_migration_that_defines_it(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/routes/profile.py")
        found = await diagnostics(client, uri, lambda d: len(of_type(d, "MISSING_TABLE")) == 2)
        for missing in of_type(found, "MISSING_TABLE"):
            assert missing.severity == lsp.DiagnosticSeverity.Error
            (related,) = missing.related_information or []
            assert related.location.uri == uri_of(shop / "migrations/004_user_preferences.sql")
            assert related.location.range.start.line == 3  # 004_user_preferences.sql:4
        (star,) = of_type(found, "SELECT_STAR")
        assert star.severity == lsp.DiagnosticSeverity.Hint


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_startup_scan_reports_progress_and_files_not_open(
    tmp_path: Path, client_name: str
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        done = await until(
            lambda: [
                values
                for values in client.progress_reports.values()
                if values and isinstance(values[-1], lsp.WorkDoneProgressEnd)
            ],
            "the start-up scan's progress to end",
        )
        values = done[0]
        assert isinstance(values[0], lsp.WorkDoneProgressBegin)
        assert any(isinstance(v, lsp.WorkDoneProgressReport) for v in values)
        reports_uri = uri_of(shop / "app/reports.py")
        drift_uri = uri_of(shop / "migrations/005_order_tracking.sql")
        if client.pulls:
            report = await asyncio.wait_for(
                client.workspace_diagnostic_async(
                    lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
                ),
                WAIT,
            )
            by_uri = {
                item.uri: item.items
                for item in report.items
                if isinstance(item, lsp.WorkspaceFullDocumentDiagnosticReport)
            }
        else:
            await until(
                lambda: reports_uri in client.diagnostics and drift_uri in client.diagnostics,
                "workspace diagnostics",
            )
            by_uri = dict(client.diagnostics)
        assert {d.code for d in by_uri[reports_uri]} == {
            "SELECT_STAR",
            "SQL_INJECTION",
            "MISSING_TABLE",
            "DYNAMIC_IDENTIFIER",
            "PARAMETER_MISMATCH",
        }
        assert {d.code for d in by_uri[drift_uri]} == {"SCHEMA_DRIFT"}
        assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in by_uri[drift_uri])


@pytest.mark.parametrize(
    ("client_name", "pulls"),
    [("visual-studio-code", False), ("neovim", False), ("neovim-pull", True)],
)
async def test_pull_is_advertised_only_to_a_client_that_can_be_refreshed(
    tmp_path: Path, client_name: str, pulls: bool
) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        assert client.pulls is pulls
        uri = open_doc(client, shop / "app/routes/profile.py")
        if pulls:
            await diagnostics(client, uri, lambda d: bool(d))
            await asyncio.sleep(1.0)
            assert [p for p in client.published if p.uri == uri] == []  # never both
        else:
            await diagnostics(client, uri, lambda d: bool(d), version=1)


@pytest.mark.parametrize("client_name", ALL_CLIENTS)
async def test_pull_diagnostics_full_then_unchanged(tmp_path: Path, client_name: str) -> None:
    shop = copy_shop(tmp_path)
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/store/orders.py")
        params = lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        first = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(first, lsp.RelatedFullDocumentDiagnosticReport)
        assert {d.code for d in first.items} == {"MISSING_COLUMN", "SQL_INJECTION", "MISSING_INDEX"}
        assert first.result_id
        params.previous_result_id = first.result_id
        second = await asyncio.wait_for(client.text_document_diagnostic_async(params), WAIT)
        assert isinstance(second, lsp.RelatedUnchangedDocumentDiagnosticReport)
        assert second.result_id == first.result_id
        # The whole workspace, the open file with its version.
        report = await asyncio.wait_for(
            client.workspace_diagnostic_async(
                lsp.WorkspaceDiagnosticParams(previous_result_ids=[])
            ),
            WAIT,
        )
        items = {item.uri: item for item in report.items}
        assert items[uri].version == 1
        assert uri_of(shop / "app/routes/auth.py") in items


@pytest.mark.parametrize("client_name", CLIENTS)
async def test_runtime_events_show_at_the_line_that_raised_them(
    tmp_path: Path, client_name: str
) -> None:
    from dbheal_lsp.fixes.state import StateStore

    shop = copy_shop(tmp_path)
    with StateStore(shop) as store:
        store.record_event(
            "no such column: discount", "SELECT discount FROM orders", path="app/db.py", line=22
        )
    async with session(shop, client_name) as client:
        uri = open_doc(client, shop / "app/db.py")
        found = await diagnostics(client, uri, lambda d: bool(of_type(d, "MISSING_COLUMN")))
        (event,) = of_type(found, "MISSING_COLUMN")
        assert event.range.start.line == 21
        assert "at run time" in event.message
        assert event.severity == lsp.DiagnosticSeverity.Error

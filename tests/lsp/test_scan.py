"""scan.py end to end: the start-up scan of the workspace, its progress, and the findings of
the files not open.

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
    WAIT,
    session,
    until,
    uri_of,
)

pytestmark = pytest.mark.asyncio


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

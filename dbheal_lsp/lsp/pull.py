"""Pull diagnostics: textDocument/diagnostic and workspace/diagnostic.

A client that pulls gets no pushes at all, so that it never shows the same finding twice
(Neovim 0.10+ and vscode-languageclient keep pushed and pulled diagnostics apart); it is told to
pull again (workspace/diagnostic/refresh, `scan.refresh_pulled`) when the schema changed. An
answer whose result id the client already has is "unchanged".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from dbheal_lsp.lsp.documents import analysed
from dbheal_lsp.lsp.folders import folder_of_uri
from dbheal_lsp.lsp.scan import file_diagnostics, issues_id

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer


async def document_diagnostic(
    server: DbhealServer, params: lsp.DocumentDiagnosticParams
) -> lsp.DocumentDiagnosticReport:
    """Return the diagnostics of one document: open, its analysis; else the last scan's."""
    uri = params.text_document.uri
    doc = server.documents.get(uri)
    if doc is not None and doc.kind != "other":
        result = await analysed(server, doc)
        if result is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == result.result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result.result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(
            items=list(result.diagnostics), result_id=result.result_id
        )
    folder = folder_of_uri(server, uri)
    fs = to_fs_path(uri)
    if folder is None or fs is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    rel = folder.config.relative(Path(fs))
    found = folder.workspace_issues().get(rel, ())
    rid = issues_id(found)
    if params.previous_result_id == rid:
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=rid)
    diagnostics = await server.run_in(
        server.interactive_pool, file_diagnostics, server, folder, rel, found
    )
    return lsp.RelatedFullDocumentDiagnosticReport(items=diagnostics, result_id=rid)


async def workspace_diagnostic(
    server: DbhealServer, params: lsp.WorkspaceDiagnosticParams
) -> lsp.WorkspaceDiagnosticReport:
    """Return the diagnostics of every open document and every file with issues (once the
    start-up scan is done)."""
    if server.startup is not None and not server.startup.done():
        with contextlib.suppress(Exception):
            await asyncio.shield(server.startup)
    previous = {p.uri: p.value for p in params.previous_result_ids}
    items: list[lsp.WorkspaceDocumentDiagnosticReport] = []
    seen: set[str] = set()
    for doc in list(server.documents.values()):
        if doc.kind == "other":
            continue
        result = await analysed(server, doc)
        if result is None:
            continue
        seen.add(doc.uri)
        items.append(
            _workspace_report(
                doc.uri, result.version, result.result_id, list(result.diagnostics), previous
            )
        )
    for folder in list(server.folders.values()):
        issues = folder.workspace_issues()
        for rel, found in sorted(issues.items()):
            uri = folder.uri_of(rel)
            if uri in seen:
                continue
            seen.add(uri)
            rid = issues_id(found)
            if previous.get(uri) == rid:
                items.append(
                    lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, version=None, result_id=rid
                    )
                )
                continue
            diagnostics = await server.run_in(
                server.interactive_pool, file_diagnostics, server, folder, rel, found
            )
            items.append(_workspace_report(uri, None, rid, diagnostics, previous))
    return lsp.WorkspaceDiagnosticReport(items=items)


def _workspace_report(
    uri: str,
    version: int | None,
    rid: str,
    diagnostics: list[lsp.Diagnostic],
    previous: Mapping[str, str],
) -> lsp.WorkspaceDocumentDiagnosticReport:
    if previous.get(uri) == rid:
        return lsp.WorkspaceUnchangedDocumentDiagnosticReport(
            uri=uri, version=version, result_id=rid
        )
    return lsp.WorkspaceFullDocumentDiagnosticReport(
        uri=uri, version=version, items=diagnostics, result_id=rid
    )

"""Hover and completion: the engine's lookups (`analysis.lookup`) at the cursor of a document.

lookup reads the schemas through caches that are safe to share between threads: these requests
run in the interactive pool on the folder's `tools_project` without waiting for a lock, so a
check or a scan in progress never delays them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.lookup import Completion, completions, hover_markdown, token_at
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.documents import Document
from dbheal_lsp.model import Span

if TYPE_CHECKING:
    from dbheal_lsp.lsp.server import DbhealServer

TRIGGER_CHARACTERS = (" ", ".", "(", ",")


async def hover(server: DbhealServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """Return what the table, column or function under the cursor is."""
    doc = server.documents.get(params.text_document.uri)
    if doc is None or doc.kind != "source":
        return None
    text = server.workspace.get_text_document(doc.uri).source
    lines = LineIndex(text)
    line, column = convert.point_of(params.position, lines, server.caps.encoding)
    found = await server.run_in(server.interactive_pool, _hover_job, doc, text, line, column)
    if found is None:
        return None
    markdown, span = found
    return convert.hover(markdown, span, lines, server.caps)


def _hover_job(doc: Document, text: str, line: int, column: int) -> tuple[str, Span] | None:
    project = doc.folder.tools_project
    token = token_at(project, doc.rel, text, line, column)
    if token is None:
        return None
    markdown = hover_markdown(project, token)
    return (markdown, token.span) if markdown else None


async def completion(
    server: DbhealServer, params: lsp.CompletionParams
) -> lsp.CompletionList | None:
    """Return the tables, columns and keywords that may come at the cursor."""
    doc = server.documents.get(params.text_document.uri)
    if doc is None or doc.kind != "source":
        return None
    text = server.workspace.get_text_document(doc.uri).source
    line, column = convert.point_of(params.position, LineIndex(text), server.caps.encoding)
    proposals = await server.run_in(
        server.interactive_pool, _completion_job, doc, text, line, column
    )
    if not proposals:
        return None
    return lsp.CompletionList(
        is_incomplete=False, items=convert.completion_items(proposals, server.caps)
    )


def _completion_job(doc: Document, text: str, line: int, column: int) -> tuple[Completion, ...]:
    return completions(doc.folder.tools_project, doc.rel, text, line, column)

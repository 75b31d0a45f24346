"""The floor for bench/bench_lsp.py: a pygls 2 language server that does nothing.

It answers `initialize`, keeps the open documents (pygls does that on its own) and publishes an
empty list of diagnostics on didOpen and didSave, at once. What a save costs with it is the cost
of the protocol alone: the client writing the notification, pygls reading and dispatching it,
and the notification back. dbheal's latency is reported beside it.

    python bench/floor_server.py        # over stdio, like `python -m dbheal_lsp`
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("dbheal-bench-floor", "1.0")


def publish_nothing(ls: LanguageServer, uri: str) -> None:
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    publish_nothing(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    publish_nothing(ls, params.text_document.uri)


def main() -> None:
    server.start_io()


if __name__ == "__main__":
    main()

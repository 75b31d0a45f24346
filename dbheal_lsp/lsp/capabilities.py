"""What the client can do: the parts of its capabilities the server's output depends on.

Read once, at initialize, from the client's capabilities and the position encoding pygls agreed
on; `convert.py` and the features look at `ClientFeatures`, never at the raw capabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types as lsp

__all__ = ["UTF8", "UTF16", "UTF32", "ClientFeatures"]

UTF8 = lsp.PositionEncodingKind.Utf8.value
UTF16 = lsp.PositionEncodingKind.Utf16.value
UTF32 = lsp.PositionEncodingKind.Utf32.value


@dataclass(frozen=True)
class ClientFeatures:
    """The parts of the client's capabilities the server's output depends on."""

    encoding: str = UTF16
    related_information: bool = True
    code_description: bool = True
    diagnostic_data: bool = True
    pull_diagnostics: bool = False
    diagnostic_refresh: bool = False
    work_done_progress: bool = False
    configuration: bool = False
    apply_edit: bool = False
    document_changes: bool = False
    code_action_literals: bool = True
    resolve_edit: bool = False
    markdown_hover: bool = True
    markdown_completion: bool = True

    @classmethod
    def of(cls, caps: lsp.ClientCapabilities | None, encoding: object) -> ClientFeatures:
        """Return the features of a client with capabilities `caps` and position `encoding`."""
        if caps is None:
            return cls(encoding=_encoding(encoding))
        text = caps.text_document
        workspace = caps.workspace
        window = caps.window
        publish = text.publish_diagnostics if text else None
        action = text.code_action if text else None
        hover_caps = text.hover if text else None
        completion = text.completion if text else None
        item = completion.completion_item if completion else None
        resolve = action.resolve_support if action else None
        edit = workspace.workspace_edit if workspace else None
        diagnostics = workspace.diagnostics if workspace else None
        return cls(
            encoding=_encoding(encoding),
            related_information=bool(publish and publish.related_information),
            code_description=bool(publish and publish.code_description_support),
            diagnostic_data=bool(publish and publish.data_support),
            # Pull only from a client the server can tell when to pull again: without
            # workspace/diagnostic/refresh, a schema change would leave stale findings shown.
            pull_diagnostics=bool(
                text and text.diagnostic is not None and diagnostics and diagnostics.refresh_support
            ),
            diagnostic_refresh=bool(diagnostics and diagnostics.refresh_support),
            work_done_progress=bool(window and window.work_done_progress),
            configuration=bool(workspace and workspace.configuration),
            apply_edit=bool(workspace and workspace.apply_edit),
            document_changes=bool(edit and edit.document_changes),
            code_action_literals=bool(action and action.code_action_literal_support),
            resolve_edit=bool(resolve and "edit" in resolve.properties),
            markdown_hover=_markdown(hover_caps.content_format if hover_caps else None),
            # A client that declares nothing about completion (Kate 22) shows its documentation
            # as it is: plain text reads right everywhere.
            markdown_completion=completion is not None
            and _markdown(item.documentation_format if item else None),
        )


def _encoding(value: object) -> str:
    text = str(getattr(value, "value", value) or UTF16)
    return text if text in (UTF8, UTF16, UTF32) else UTF16


def _markdown(formats: Sequence[lsp.MarkupKind] | None) -> bool:
    """Whether to send markdown to a client that accepts `formats`, in its order of preference
    (YouCompleteMe accepts markdown but prefers plain text, and shows markdown raw)."""
    if formats is None:
        return True
    preferred = [f for f in formats if f in (lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText)]
    return bool(preferred) and preferred[0] == lsp.MarkupKind.Markdown

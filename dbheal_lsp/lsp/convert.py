"""Engine values to LSP values and back: the only module that speaks lsprotocol's types.

The engine's positions are 1-based lines and 1-based code-point columns with exclusive ends
(`dbheal_lsp.model`); LSP's are 0-based lines and 0-based columns counted in the position
encoding the client and server agreed on (UTF-16 code units unless the client offered UTF-8 or
UTF-32). Lines are split as Python and LSP both split them: at \\r\\n, \\r and \\n only.

Nothing here reads files or talks to the client: the server hands in the text of a document
(`analysis.positions.LineIndex`) and gets back what it sends, code actions and the commands they run included.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from lsprotocol import types as lsp

from dbheal_lsp.analysis.positions import LineIndex, column_to_utf16, utf16_to_column
from dbheal_lsp.codec import to_dict
from dbheal_lsp.lookup import Completion
from dbheal_lsp.lsp.capabilities import UTF8, UTF16, ClientFeatures
from dbheal_lsp.model import (
    CodeFix,
    Issue,
    IssueType,
    MigrationPlan,
    Severity,
    Span,
    TextEdit,
)
from dbheal_lsp.rules import RULE_OF

__all__ = [
    "CMD_APPLY",
    "CMD_APPLY_FIX",
    "CMD_HISTORY",
    "CMD_LIST_QUEUE",
    "CMD_QUEUE",
    "CMD_ROLLBACK",
    "CMD_SCAN",
    "COMMANDS",
    "FIX_ALL_KIND",
    "SOURCE",
    "code_fix_edit",
    "completion_items",
    "diagnostic_severity",
    "fix_all_action",
    "hover",
    "issue_data",
    "issue_from_data",
    "issue_to_diagnostic",
    "merged_edit",
    "origin_location",
    "point_of",
    "position_of",
    "quickfixes",
    "range_of",
    "result_id",
    "rule_href",
    "span_of",
    "text_edits",
]

SOURCE = "dbheal"

# The commands the server registers: their names are part of its interface (the VS Code client
# and editor configurations call them), and the code actions below name them.
CMD_SCAN = "dbheal.scanWorkspace"
CMD_QUEUE = "dbheal.queueMigration"
CMD_APPLY = "dbheal.applyMigration"
CMD_APPLY_FIX = "dbheal.applyFix"
CMD_ROLLBACK = "dbheal.rollback"
CMD_HISTORY = "dbheal.showHistory"
CMD_LIST_QUEUE = "dbheal.listQueue"
COMMANDS = (
    CMD_SCAN,
    CMD_QUEUE,
    CMD_APPLY,
    CMD_APPLY_FIX,
    CMD_ROLLBACK,
    CMD_HISTORY,
    CMD_LIST_QUEUE,
)
FIX_ALL_KIND = "source.fixAll.dbheal"


_SEVERITY = MappingProxyType(
    {
        Severity.CRITICAL: lsp.DiagnosticSeverity.Error,
        Severity.HIGH: lsp.DiagnosticSeverity.Warning,
        Severity.MEDIUM: lsp.DiagnosticSeverity.Information,
        Severity.LOW: lsp.DiagnosticSeverity.Hint,
    }
)

_COMPLETION_KIND = MappingProxyType(
    {
        "table": lsp.CompletionItemKind.Class,
        "column": lsp.CompletionItemKind.Field,
        "keyword": lsp.CompletionItemKind.Keyword,
    }
)


# --- positions ------------------------------------------------------------------------------------


def _character(line_text: str, column: int, encoding: str) -> int:
    """Return the 0-based LSP character of the 1-based code-point `column` of a line."""
    if encoding == UTF16:
        return column_to_utf16(line_text, column)
    index = max(column - 1, 0)
    if encoding == UTF8:
        head = line_text[:index]
        return len(head.encode("utf-8", "surrogatepass")) + max(0, index - len(line_text))
    return index


def _column(line_text: str, character: int, encoding: str) -> int:
    """Return the 1-based code-point column of the 0-based LSP `character` of a line."""
    if encoding == UTF16:
        return utf16_to_column(line_text, character)
    if character <= 0:
        return 1
    if encoding == UTF8:
        data = line_text.encode("utf-8", "surrogatepass")
        if character >= len(data):
            return len(line_text) + 1 + (character - len(data))
        return len(data[:character].decode("utf-8", "ignore")) + 1
    return character + 1


def position_of(lines: LineIndex, line: int, column: int, encoding: str) -> lsp.Position:
    """Return the LSP position of the engine's (line, column)."""
    return lsp.Position(
        line=max(line - 1, 0), character=_character(lines.line(line), column, encoding)
    )


def range_of(span: Span, lines: LineIndex, encoding: str) -> lsp.Range:
    """Return the LSP range of an engine span."""
    return lsp.Range(
        start=position_of(lines, span.line, span.column, encoding),
        end=position_of(lines, span.end_line, span.end_column, encoding),
    )


def point_of(position: lsp.Position, lines: LineIndex, encoding: str) -> tuple[int, int]:
    """Return the engine's (line, column) of an LSP position."""
    line = position.line + 1
    return line, _column(lines.line(line), position.character, encoding)


def span_of(range_: lsp.Range, lines: LineIndex, encoding: str) -> Span:
    """Return the engine span of an LSP range."""
    start = point_of(range_.start, lines, encoding)
    end = point_of(range_.end, lines, encoding)
    return Span(start[0], start[1], end[0], end[1])


# --- diagnostics ----------------------------------------------------------------------------------


def diagnostic_severity(severity: Severity) -> lsp.DiagnosticSeverity:
    """critical → Error, high → Warning, medium → Information, low → Hint."""
    return _SEVERITY[severity]


def rule_href(issue_type: str) -> str:
    """Return the address of the section of docs/rules.md that explains `issue_type`."""
    return RULE_OF[IssueType(issue_type)].docs_url


def issue_data(issue: Issue) -> dict[str, Any]:
    """Return what a code action needs of `issue`, as JSON: to_json() plus spans and SQL."""
    data: dict[str, Any] = dict(issue.to_json())
    for key, span in (("statement_span", issue.statement_span), ("call_span", issue.call_span)):
        data[key] = [span.line, span.column, span.end_line, span.end_column] if span else None
    data["sql"] = issue.sql
    return data


def issue_from_data(data: object) -> Issue | None:
    """Return the issue `issue_data` described, or None for anything else."""
    if not isinstance(data, Mapping):
        return None
    try:
        return Issue.from_json({str(k): v for k, v in data.items()})
    except (KeyError, ValueError, TypeError):
        return None


def origin_location(uri: str, line_text: str, line: int, encoding: str) -> lsp.Location:
    """Return the location of 1-based `line` of a file: its text without the indentation."""
    indent = len(line_text) - len(line_text.lstrip())
    row = max(line - 1, 0)
    return lsp.Location(
        uri=uri,
        range=lsp.Range(
            start=lsp.Position(line=row, character=_character(line_text, indent + 1, encoding)),
            end=lsp.Position(
                line=row, character=_character(line_text, len(line_text) + 1, encoding)
            ),
        ),
    )


def issue_to_diagnostic(
    issue: Issue,
    lines: LineIndex,
    features: ClientFeatures,
    origin: lsp.Location | None = None,
) -> lsp.Diagnostic:
    """Return the diagnostic of `issue` in a document whose text is `lines`.

    `origin` is where the migration that defines the missing table or column is (the
    diagnostic's related information).
    """
    related = None
    if origin is not None and features.related_information:
        what = issue.table or "it"
        if issue.column_name:
            what = f"{issue.table}.{issue.column_name}" if issue.table else issue.column_name
        related = [
            lsp.DiagnosticRelatedInformation(
                location=origin, message=f"{what} is defined here (migration not applied)"
            )
        ]
    return lsp.Diagnostic(
        range=range_of(issue.span, lines, features.encoding),
        message=issue.message,
        severity=diagnostic_severity(issue.severity),
        code=issue.type.value,
        code_description=(
            lsp.CodeDescription(href=rule_href(issue.type.value))
            if features.code_description
            else None
        ),
        source=SOURCE,
        related_information=related,
        data=issue_data(issue),
    )


def result_id(*parts: str) -> str:
    """Return a short id for a diagnostic report computed from `parts` (text, schema key...)."""
    digest = hashlib.blake2b(digest_size=10)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


# --- edits ----------------------------------------------------------------------------------------


def text_edits(edits: Iterable[TextEdit], lines: LineIndex, encoding: str) -> list[lsp.TextEdit]:
    """Return engine edits as LSP edits of the text `lines`."""
    return [
        lsp.TextEdit(range=range_of(edit.span, lines, encoding), new_text=edit.new_text)
        for edit in edits
    ]


def merged_edit(
    uri: str,
    version: int | None,
    edits: Sequence[lsp.TextEdit],
    features: ClientFeatures,
) -> lsp.WorkspaceEdit:
    """Return one WorkspaceEdit of `edits` to the document `uri` at `version`."""
    if features.document_changes:
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
            ]
        )
    return lsp.WorkspaceEdit(changes={uri: list(edits)})


def code_fix_edit(
    fix: CodeFix, uri: str, version: int | None, lines: LineIndex, features: ClientFeatures
) -> lsp.WorkspaceEdit:
    """Return the WorkspaceEdit of a code fix planned for the text `lines`."""
    return merged_edit(uri, version, text_edits(fix.edits, lines, features.encoding), features)


# --- code actions ---------------------------------------------------------------------------------


def quickfixes(
    issue: Issue,
    diagnostic: lsp.Diagnostic,
    fixes: Sequence[CodeFix],
    plans: Sequence[MigrationPlan],
    uri: str,
    version: int | None,
    lines: LineIndex,
    features: ClientFeatures,
) -> list[lsp.CodeAction]:
    """Return the quick fixes of `issue` in the document `uri` whose text is `lines`.

    Each code fix is an edit (and, for a client without code action literals, the command that
    makes it); each schema plan is two commands, queue it or apply it, and a third when a type
    change makes the issue's cast redundant: apply it and remove the cast.
    """
    actions = [
        _quickfix(
            fix.title,
            diagnostic,
            _command(
                fix.title, CMD_APPLY_FIX, {"uri": uri, "issue": issue_data(issue), "fix": fix.id}
            )
            if not features.code_action_literals
            else None,
            edit=code_fix_edit(fix, uri, version, lines, features),
            is_preferred=fix.kind != "rename",
        )
        for fix in fixes
    ]
    cast = next((f for f in fixes if f.kind == "remove_cast"), None)
    for plan in plans:
        payload = {"uri": uri, "issue": issue_data(issue), "plan": to_dict(plan)}
        queue = f"Queue migration: {plan.title}"
        actions.append(_quickfix(queue, diagnostic, _command(queue, CMD_QUEUE, payload)))
        apply = f"Apply migration: {plan.title}"
        actions.append(_quickfix(f"{apply}…", diagnostic, _command(apply, CMD_APPLY, payload)))
        if (
            issue.type is IssueType.TYPE_MISMATCH
            and plan.kind == "change_type"
            and cast is not None
        ):
            both = f"{plan.title} and remove the {issue.helper or 'redundant'}() cast…"
            command = _command(both, CMD_APPLY, {**payload, "withCastFix": True})
            actions.append(_quickfix(both, diagnostic, command))
    return actions


def _quickfix(
    title: str,
    diagnostic: lsp.Diagnostic,
    command: lsp.Command | None,
    *,
    edit: lsp.WorkspaceEdit | None = None,
    is_preferred: bool | None = None,
) -> lsp.CodeAction:
    """Return the quick fix `title` of `diagnostic`, which makes `edit` and/or runs `command`."""
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=is_preferred,
        edit=edit,
        command=command,
    )


def _command(title: str, name: str, payload: Mapping[str, Any]) -> lsp.Command:
    """Return the command `name` of the server, run with the one argument `payload`."""
    return lsp.Command(title=title, command=name, arguments=[payload])


def fix_all_action(uri: str, version: int | None) -> lsp.CodeAction:
    """Return the "fix all" action of the document `uri`, its edit left to be resolved."""
    return lsp.CodeAction(
        title="dbheal: fix all auto-fixable problems",
        kind=FIX_ALL_KIND,
        data={"fixAll": uri, "version": version},
    )


# --- hover and completion -------------------------------------------------------------------------


def hover(markdown: str, span: Span, lines: LineIndex, features: ClientFeatures) -> lsp.Hover:
    """Return the hover showing `markdown` over `span`."""
    if features.markdown_hover:
        contents = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown)
    else:
        contents = lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=plain_text(markdown))
    return lsp.Hover(
        contents=contents,
        range=range_of(span, lines, features.encoding),
    )


_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def plain_text(markdown: str) -> str:
    """Return `markdown` as a client that shows text as it is would best show it.

    Clients that accept only plain text (ALE, YouCompleteMe) show every `**` and backtick:
    fences go (their content stays, indented), emphasis and code marks go, a link becomes
    "text (address)", a heading loses its #s.
    """
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            out.append("    " + line)
            continue
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = _LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[2] else m[1], line)
        line = _EMPHASIS.sub(r"\2", line)
        out.append(line.replace("`", ""))
    return "\n".join(out)


def completion_items(
    proposals: Sequence[Completion], features: ClientFeatures
) -> list[lsp.CompletionItem]:
    """Return lookup's proposals as completion items (tables: Class, columns: Field)."""
    kind = lsp.MarkupKind.Markdown if features.markdown_completion else lsp.MarkupKind.PlainText
    items = []
    for n, proposal in enumerate(proposals):
        items.append(
            lsp.CompletionItem(
                label=proposal.label,
                kind=_COMPLETION_KIND.get(proposal.kind, lsp.CompletionItemKind.Text),
                detail=proposal.detail or None,
                documentation=(
                    lsp.MarkupContent(
                        kind=kind,
                        value=proposal.documentation
                        if features.markdown_completion
                        else plain_text(proposal.documentation),
                    )
                    if proposal.documentation
                    else None
                ),
                sort_text=f"{n:05d}",  # lookup's order: columns in scope, tables, keywords
            )
        )
    return items

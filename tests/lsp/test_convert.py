"""convert.py: engine values to LSP values, positions in every encoding."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from dbheal_lsp.analysis.positions import LineIndex
from dbheal_lsp.lookup import Completion
from dbheal_lsp.lsp import convert
from dbheal_lsp.lsp.capabilities import ClientFeatures
from dbheal_lsp.model import (
    CodeFix,
    Issue,
    IssueType,
    MigrationPlan,
    Origin,
    Severity,
    Span,
    TextEdit,
)

# examples/shop/EXPECTED.md row 10: `categroy` at code-point column 114 (1-based).
LINE = (
    '    return db.execute("SELECT id, name, price_cents FROM products WHERE name IN '
    "('Café crème', 'Thé vert 🍵') AND categroy = ?\", (category,)).fetchall()"
)
TEXT = "first line\n" + LINE + "\r\nlast\rafter a lone CR\n"


def issue(span: Span, **changes: object) -> Issue:
    values: dict[str, object] = {
        "type": IssueType.MISSING_COLUMN,
        "severity": Severity.CRITICAL,
        "path": "app/store/catalog.py",
        "span": span,
        "message": "no such column: products.categroy; did you mean 'category'?",
        "table": "products",
        "column_name": "categroy",
        "suggestion": "category",
        "statement_span": Span(2, 23, 2, 120),
        "call_span": Span(2, 12, 2, 150),
        "sql": "SELECT 1",
        "fingerprint": "abc",
    }
    values.update(changes)
    return Issue(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encoding", "start"),
    [("utf-16", 114), ("utf-8", 119), ("utf-32", 113)],
)
def test_positions_in_each_encoding(encoding: str, start: int) -> None:
    lines = LineIndex(TEXT)
    span = Span(2, 114, 2, 122)
    found = convert.range_of(span, lines, encoding)
    assert found.start == lsp.Position(line=1, character=start)
    assert found.end.character - found.start.character == 8
    assert convert.span_of(found, lines, encoding) == span


def test_lines_split_as_python_does() -> None:
    lines = LineIndex("a\fb\nc\r\nd\re\u2028f")
    assert list(lines.lines) == ["a\fb", "c", "d", "e\u2028f"]
    assert lines.line(5) == ""


def test_a_position_inside_a_surrogate_pair_is_that_character() -> None:
    lines = LineIndex("x = '🍵y'\n")
    # UTF-16: 🍵 is units 5 and 6; both belong to code-point column 6.
    assert convert.point_of(lsp.Position(line=0, character=6), lines, "utf-16") == (1, 6)
    assert convert.point_of(lsp.Position(line=0, character=7), lines, "utf-16") == (1, 7)
    assert convert.point_of(lsp.Position(line=0, character=9), lines, "utf-8") == (1, 7)


def test_past_the_end_of_a_line_counts_on() -> None:
    lines = LineIndex("ab\n")
    assert convert.position_of(lines, 1, 5, "utf-16").character == 4
    assert convert.point_of(lsp.Position(line=0, character=4), lines, "utf-8") == (1, 5)


def test_severities_and_rule_links() -> None:
    assert [convert.diagnostic_severity(s) for s in Severity] == [
        lsp.DiagnosticSeverity.Error,
        lsp.DiagnosticSeverity.Warning,
        lsp.DiagnosticSeverity.Information,
        lsp.DiagnosticSeverity.Hint,
    ]
    assert convert.rule_href("SQL_INJECTION").endswith("docs/rules.md#sql_injection")


def test_diagnostic_carries_what_a_code_action_needs() -> None:
    found = issue(Span(2, 114, 2, 122))
    origin = convert.origin_location("file:///m.sql", "    ALTER TABLE x;", 4, "utf-16")
    diagnostic = convert.issue_to_diagnostic(found, LineIndex(TEXT), ClientFeatures(), origin)
    assert diagnostic.source == "dbheal"
    assert diagnostic.code == "MISSING_COLUMN"
    assert diagnostic.code_description is not None
    assert diagnostic.severity == lsp.DiagnosticSeverity.Error
    (related,) = diagnostic.related_information or []
    assert related.location.range.start == lsp.Position(line=3, character=4)
    assert related.location.range.end == lsp.Position(line=3, character=18)
    assert "products.categroy" in related.message
    assert convert.issue_from_data(diagnostic.data) == found
    assert convert.issue_from_data({"type": "nonsense"}) is None
    assert convert.issue_from_data("text") is None


def test_what_the_client_does_not_support_is_left_out() -> None:
    plain = ClientFeatures(related_information=False, code_description=False)
    origin = convert.origin_location("file:///m.sql", "x", 1, "utf-16")
    diagnostic = convert.issue_to_diagnostic(
        issue(Span(2, 1, 2, 2)), LineIndex(TEXT), plain, origin
    )
    assert diagnostic.related_information is None
    assert diagnostic.code_description is None


def test_code_fix_as_versioned_or_plain_workspace_edit() -> None:
    fix = CodeFix(
        "rename:abc",
        "rename",
        "Change column 'categroy' to 'category'",
        "app/store/catalog.py",
        "abc",
        (TextEdit("app/store/catalog.py", Span(2, 114, 2, 122), "category"),),
        "hash",
    )
    lines = LineIndex(TEXT)
    versioned = convert.code_fix_edit(
        fix, "file:///c.py", 7, lines, ClientFeatures(document_changes=True)
    )
    (change,) = versioned.document_changes or []
    assert isinstance(change, lsp.TextDocumentEdit)
    assert change.text_document.version == 7
    (edit,) = change.edits
    assert isinstance(edit, lsp.TextEdit)
    assert (edit.range.start.character, edit.range.end.character) == (114, 122)
    plain = convert.code_fix_edit(fix, "file:///c.py", 7, lines, ClientFeatures(encoding="utf-8"))
    assert plain.changes is not None
    assert plain.changes["file:///c.py"][0].range.start.character == 119


def test_quickfixes_edit_queue_apply_and_both() -> None:
    found = issue(Span(2, 114, 2, 122), type=IssueType.TYPE_MISMATCH, helper="int")
    fix = CodeFix(
        id="remove_cast:f",
        kind="remove_cast",
        title="Remove the redundant int() cast",
        path="app/store/catalog.py",
        issue_fingerprint="f",
        edits=(TextEdit("app/store/catalog.py", Span(2, 114, 2, 122), "sku"),),
        source_hash="",
    )
    plan = MigrationPlan(
        id="change_type:f",
        kind="change_type",
        title="Change the type of products.sku to INTEGER",
        description="",
        table="products",
        steps=(),
        expected="",
    )
    lines = LineIndex(TEXT)
    diagnostic = convert.issue_to_diagnostic(found, lines, ClientFeatures())
    actions = convert.quickfixes(
        found, diagnostic, [fix], [plan], "file:///c.py", 3, lines, ClientFeatures()
    )
    assert [a.title for a in actions] == [
        "Remove the redundant int() cast",
        "Queue migration: Change the type of products.sku to INTEGER",
        "Apply migration: Change the type of products.sku to INTEGER…",
        "Change the type of products.sku to INTEGER and remove the int() cast…",
    ]
    assert all(a.kind == lsp.CodeActionKind.QuickFix for a in actions)
    assert actions[0].edit is not None and actions[0].command is None and actions[0].is_preferred
    commands = [a.command for a in actions[1:]]
    assert [c.command for c in commands if c] == [
        convert.CMD_QUEUE,
        convert.CMD_APPLY,
        convert.CMD_APPLY,
    ]
    assert [c.arguments[0].get("withCastFix") for c in commands if c and c.arguments] == [
        None,
        None,
        True,
    ]
    # A client without code action literals runs the code fix as a command.
    (only,) = convert.quickfixes(
        found,
        diagnostic,
        [fix],
        [],
        "file:///c.py",
        3,
        lines,
        ClientFeatures(code_action_literals=False),
    )
    assert only.command is not None and only.command.command == convert.CMD_APPLY_FIX
    fix_all = convert.fix_all_action("file:///c.py", 3)
    assert fix_all.kind == convert.FIX_ALL_KIND and fix_all.edit is None
    assert fix_all.data == {"fixAll": "file:///c.py", "version": 3}


def test_completion_kinds_keep_lookups_order() -> None:
    items = convert.completion_items(
        [
            Completion("email", "column", "TEXT — users", "**column**"),
            Completion("users", "table", "table, 4 columns"),
            Completion("WHERE", "keyword", "keyword"),
        ],
        ClientFeatures(),
    )
    assert [i.kind for i in items] == [
        lsp.CompletionItemKind.Field,
        lsp.CompletionItemKind.Class,
        lsp.CompletionItemKind.Keyword,
    ]
    assert [i.sort_text for i in items] == sorted(i.sort_text or "" for i in items)
    assert isinstance(items[0].documentation, lsp.MarkupContent)
    assert items[1].documentation is None


def test_hover_is_markdown_over_the_token() -> None:
    found = convert.hover("**column**", Span(2, 114, 2, 122), LineIndex(TEXT), ClientFeatures())
    assert isinstance(found.contents, lsp.MarkupContent)
    assert found.contents.kind == lsp.MarkupKind.Markdown
    assert found.range is not None and found.range.start.character == 114


def test_origin_is_a_location_of_its_line() -> None:
    location = convert.origin_location("file:///m.sql", "\tCREATE TABLE t (x);", 2, "utf-8")
    assert location.range.start == lsp.Position(line=1, character=1)
    assert isinstance(Origin("m.sql", 2), Origin)

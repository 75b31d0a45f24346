"""Finding what a JS/TS fix works on: the call at an issue's call span, the node at a span."""

from __future__ import annotations

from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS
from dbheal_lsp.languages.javascript.fix_target import Target, byte_range, node_at
from dbheal_lsp.languages.javascript.parse import Parsers
from dbheal_lsp.model import Issue, IssueType, Severity, Span


def _issue(span: Span, call: Span | None) -> Issue:
    return Issue(IssueType.SQL_INJECTION, Severity.CRITICAL, "a.js", span, "m", call_span=call)


def test_the_call_and_the_value_are_found_after_non_ascii_text() -> None:
    text = "const s = 'ünï 🎉'; db.all(`SELECT id FROM t WHERE a = ${x}`);\n"
    source = Parsers().tree("a.js", text)
    start, x = text.index("db.all"), text.index("${x}") + 2
    call = Span(1, start + 1, 1, text.index(";\n") + 1)
    value = Span(1, x + 1, 1, x + 2)

    target = Target.find(source, _issue(value, call), DEFAULT_CALLS)

    assert target is not None and target.call.name == "all"
    node = target.node(value)
    assert node is not None and source.text_of(node) == "x"


def test_a_span_outside_the_text_or_not_a_call_finds_nothing() -> None:
    source = Parsers().tree("a.js", "db.all('SELECT 1');\n")

    assert byte_range(source, Span(9, 1, 9, 2)) is None
    assert Target.find(source, _issue(Span(1, 1, 1, 2), Span(1, 1, 1, 3)), DEFAULT_CALLS) is None
    assert Target.find(source, _issue(Span(1, 1, 1, 2), None), DEFAULT_CALLS) is None
    assert node_at(source, 0, 2) is not None and node_at(source, 0, 3) is None

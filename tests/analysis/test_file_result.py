"""One file's issues without repeats, with repeated findings numbered (`analysis/file_result.py`)."""

from __future__ import annotations

from dbheal_lsp.analysis.file_result import unique_issues, why_failed
from dbheal_lsp.model import Issue, IssueType, Severity, Span


def _issue(line: int, message: str = "no such table: t", fingerprint: str = "f1") -> Issue:
    return Issue(
        IssueType.MISSING_TABLE,
        Severity.CRITICAL,
        "app.py",
        Span(line, 5, line, 6),
        message,
        fingerprint=fingerprint,
    )


def test_the_same_finding_at_the_same_place_is_reported_once() -> None:
    # Two variants of one statement can raise the same issue at the same span.
    assert unique_issues([_issue(3), _issue(3)]) == (_issue(3),)


def test_the_same_finding_twice_in_a_file_gets_numbered_fingerprints_in_source_order() -> None:
    found = unique_issues([_issue(3), _issue(9), _issue(12)])
    assert [i.fingerprint for i in found] == ["f1", "f1-1", "f1-2"]
    assert [i.span.line for i in found] == [3, 9, 12]


def test_different_findings_keep_their_own_fingerprints() -> None:
    found = unique_issues([_issue(3), _issue(3, "no such table: u", "f2")])
    assert [i.fingerprint for i in found] == ["f1", "f2"]


def test_why_a_file_failed_is_one_short_line() -> None:
    assert why_failed(RecursionError()) == "nested too deeply"
    assert why_failed(MemoryError()) == "out of memory"
    assert why_failed(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")) == (
        "text that is not valid Unicode"
    )
    assert why_failed(RuntimeError("x\n   y")) == "internal error (RuntimeError: x y)"
    assert why_failed(ValueError()) == "ValueError"

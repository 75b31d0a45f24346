"""Tests of the Issues page's query and excerpts on the demo's real issues; no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.admin.issue_query import IssueQuery, excerpt, select_issues
from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.model import Issue, IssueType
from tests.conftest import copy_shop


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[Issue, ...]]:
    root = copy_shop(tmp_path_factory.mktemp("issue-query"))
    return root, load_project(root).check_paths([root]).issues


def test_a_query_is_read_from_the_url_and_written_back() -> None:
    query = IssueQuery.from_params({"severity": "critical", "sort": "file", "dir": "desc"})
    assert query == IssueQuery(severity="critical", sort="file", descending=True)
    assert query.params() == {"severity": "critical", "sort": "file", "dir": "desc"}
    assert query.params(sort="table", dir="asc") == {
        "severity": "critical",
        "sort": "table",
        "dir": "asc",
    }
    # An unknown order is the default one, not an error.
    assert IssueQuery.from_params({"sort": "__class__"}).sort == "severity"


def test_filters_pick_the_issues_the_page_shows(demo: tuple[Path, tuple[Issue, ...]]) -> None:
    _, issues = demo
    assert len(select_issues(issues, IssueQuery())) == len(issues) == 26
    assert len(select_issues(issues, IssueQuery(severity="critical"))) == 12
    one_file = IssueQuery(file="app/store/orders.py", type="MISSING_COLUMN")
    assert len(select_issues(issues, one_file)) == 2
    # Table names compare without case.
    assert len(select_issues(issues, IssueQuery(table="USER_PREFERENCES"))) == 3


def test_orders_the_page_sorts_by(demo: tuple[Path, tuple[Issue, ...]]) -> None:
    _, issues = demo
    worst_first = select_issues(issues, IssueQuery())
    ranks = [i.severity.rank for i in worst_first]
    assert ranks == sorted(ranks, reverse=True)
    paths = [i.path for i in select_issues(issues, IssueQuery(sort="file", descending=True))]
    assert paths == sorted(paths, reverse=True)
    by_table = select_issues(issues, IssueQuery(sort="table"))
    named = [i.table.lower() for i in by_table if i.table is not None]
    assert named == sorted(named)
    # Issues without a table come last.
    assert all(i.table is None for i in by_table[len(named) :])


def test_an_excerpt_marks_the_issue_in_its_lines(demo: tuple[Path, tuple[Issue, ...]]) -> None:
    root, issues = demo
    issue = next(
        i for i in issues if i.type is IssueType.MISSING_INDEX and i.column_name == "customer_email"
    )
    cache: dict[str, list[str] | None] = {}
    lines = excerpt(issue, root, cache)
    assert lines[0].number == issue.span.line - 2
    [hit] = [line for line in lines if line.mark is not None]
    assert hit.number == issue.span.line == 97
    start, end = hit.mark or (0, 0)
    assert hit.text[start:end] == "customer_email"
    assert issue.path in cache
    missing = Issue(issue.type, issue.severity, "gone.py", issue.span, issue.message)
    assert excerpt(missing, root, cache) == []

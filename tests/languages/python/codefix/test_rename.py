"""The rename fix (`dbheal_lsp.languages.python.codefix.rename`): its fixture pairs and title."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.model import IssueType
from tests.languages.python.codefix.conftest import CASES, FIXTURES, check_fixture, issues_of


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("rename_")])
def test_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    check_fixture(case, project, caplog)


def test_kind_and_title(project: Project) -> None:
    rename = (FIXTURES / "rename_table.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, rename, IssueType.MISSING_TABLE)
    (fix,) = code_fixes(rename, issue, project)
    assert (fix.kind, fix.title) == ("rename", "Change table 'oders' to 'orders'")

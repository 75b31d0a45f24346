"""The remove_cast fix (`dbheal_lsp.languages.python.codefix.remove_cast`): its fixture pairs and titles."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.model import IssueType
from tests.languages.python.codefix.conftest import CASES, FIXTURES, check_fixture, issues_of


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("remove_cast_")])
def test_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    check_fixture(case, project, caplog)


def test_kinds_ids_and_titles(project: Project) -> None:
    cast = (FIXTURES / "remove_cast_params.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, cast, IssueType.TYPE_MISMATCH)
    (fix,) = code_fixes(cast, issue, project)
    assert fix.kind == "remove_cast"
    assert fix.id == f"remove_cast:{issue.fingerprint}"
    assert fix.title == "Remove the int() cast (sessions.user_id is TEXT)"
    assert fix.issue_fingerprint == issue.fingerprint

    inside = (FIXTURES / "remove_cast_fstring.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, inside, IssueType.TYPE_MISMATCH)
    (fix,) = code_fixes(inside, issue, project)
    assert (fix.kind, fix.id) == ("remove_cast", f"remove_cast:{issue.fingerprint}")
    assert fix.title == (
        "Remove the int() cast and pass user_id as a bound parameter (sessions.user_id is TEXT)"
    )
